# The smallest deployment: the executor function, its bucket, role and log group.
#
#   terraform init && terraform apply -var region=eu-west-1 -var image_tag=v1
#
# The image must be in the repository before the function can be created; see
# infra/lambda/README.md (two-step: -target the repository, push, then apply all).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80"
    }
  }
}

provider "aws" {
  region = var.region
}

module "sparkless" {
  source = "../../modules/sparkless"

  name      = var.name
  image_uri = var.image_uri
  image_tag = var.image_tag

  memory_mb            = 2048
  timeout_s            = 300
  ephemeral_storage_mb = 2048
  log_retention_days   = 14

  shuffle_prefix          = "shuffle"
  shuffle_expiration_days = 3

  tags = { project = "sparkless" }
}
