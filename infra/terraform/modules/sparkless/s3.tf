# The shuffle bucket. Blocks are written by one task and read by the next stage, so the
# bucket is private, encrypted, owner-enforced, and forgets whatever a job leaves behind.

resource "aws_s3_bucket" "shuffle" {
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? "${lower(var.name)}-shuffle-" : null
  force_destroy = var.force_destroy
  tags          = local.tags
}

resource "aws_s3_bucket_ownership_controls" "shuffle" {
  bucket = aws_s3_bucket.shuffle.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "shuffle" {
  bucket = aws_s3_bucket.shuffle.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "shuffle" {
  bucket = aws_s3_bucket.shuffle.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # With SSE-KMS a bucket key cuts KMS requests (and their cost) by orders of magnitude.
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "shuffle" {
  bucket = aws_s3_bucket.shuffle.id

  rule {
    id     = "expire-shuffle"
    status = "Enabled"

    filter {
      prefix = "${var.shuffle_prefix}/"
    }

    expiration {
      days = var.shuffle_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# Deny plain-HTTP access: shuffle blocks carry user data.
data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.shuffle.arn, "${aws_s3_bucket.shuffle.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "shuffle" {
  count = var.enforce_tls ? 1 : 0

  bucket = aws_s3_bucket.shuffle.id
  policy = data.aws_iam_policy_document.bucket.json

  # A bucket policy put while the public access block is being created can be rejected.
  depends_on = [aws_s3_bucket_public_access_block.shuffle]
}
