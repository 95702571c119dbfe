"""A local endpoint that speaks the AWS Lambda Invoke API and runs the real handler.

LocalStack's and moto's Lambda execution both need Docker, which this machine lacks, so
the project carries its own: ``python -m executors.lambda_endpoint`` serves one function
over HTTP on 127.0.0.1 (``server.py``), runs each invocation in a warm sandbox from the
local platform's pool (``function.py``), and inside the sandbox plays the part of
Lambda's runtime client (``runtime.py``). boto3 pointed at it behaves as against AWS.
"""
