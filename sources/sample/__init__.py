"""The embedded sample: real files where they exist, a seeded generator elsewhere."""
