# Copy (or symlink) into infra/terraform/examples/basic/ as localstack_override.tf to point
# the example at LocalStack on http://localhost:4566. Terraform merges *_override.tf files
# into the configuration: this replaces the provider block's settings and turns off the
# TLS-only bucket policy, which would deny every request made over plain http.
# Not needed with tflocal, which generates an equivalent override itself.

provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    cloudwatchlogs = "http://localhost:4566"
    ec2            = "http://localhost:4566"
    ecr            = "http://localhost:4566"
    elasticache    = "http://localhost:4566"
    iam            = "http://localhost:4566"
    lambda         = "http://localhost:4566"
    s3             = "http://s3.localhost.localstack.cloud:4566"
    sts            = "http://localhost:4566"
  }
}

module "sparkless" {
  enforce_tls = false
}
