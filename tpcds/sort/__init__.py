"""The sort benchmark: gensort records, an unchanged PySpark sort job, valsort-equivalent
validation, a run report and a scale model. ``python -m tpcds.sort gen|run|validate|plan``."""
