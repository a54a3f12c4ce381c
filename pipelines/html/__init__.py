"""What every HTML page the project writes shares — the quality report, the metric
dictionary and the workshop reports: one Jinja environment factory (``environment.py``:
autoescape, StrictUndefined, trimmed blocks) and the German number and date filters it
installs (``formatting.py``). No Dagster here.
"""
