variable "region" {
  type        = string
  description = "AWS region to deploy into; clients get it as spark.sparkless.lambda.region."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Name of the executor function (and stem of the other resources)."
  default     = "sparkless-executor"
}

variable "image_uri" {
  type        = string
  description = "An existing ECR image URI; null uses the module's repository with image_tag."
  default     = null
}

variable "image_tag" {
  type        = string
  description = "Tag of the image in the module's repository."
  default     = "latest"
}
