"""The AWS Lambda platform: tasks as Lambda invocations through boto3 (``platform.py``),
its settings (``config.py``), and the function's entry point (``entry.py``)."""
