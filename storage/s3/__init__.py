"""S3 store: ``s3://bucket/prefix`` (AWS, LocalStack, moto, any S3-compatible endpoint)."""

from storage.s3.config import S3Config
from storage.s3.store import S3Store

__all__ = ["S3Config", "S3Store"]
