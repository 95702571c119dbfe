# Where the executor image (infra/lambda/Dockerfile) is pushed. Lambda runs images only
# from ECR in the function's own region.

resource "aws_ecr_repository" "executor" {
  count = var.create_ecr_repository ? 1 : 0

  name                 = lower(var.name)
  image_tag_mutability = var.ecr_image_tag_mutability

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = local.tags
}

resource "aws_ecr_lifecycle_policy" "executor" {
  count = var.create_ecr_repository ? 1 : 0

  repository = aws_ecr_repository.executor[0].name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the newest ${var.ecr_keep_images} images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.ecr_keep_images
      }
      action = { type = "expire" }
    }]
  })
}

# Lets the Lambda service pull the image for this function only (and nothing else pull).
data "aws_iam_policy_document" "ecr_pull" {
  statement {
    sid     = "LambdaImagePull"
    effect  = "Allow"
    actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "aws:sourceArn"
      values   = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.name}*"]
    }
  }
}

resource "aws_ecr_repository_policy" "executor" {
  count = var.create_ecr_repository ? 1 : 0

  repository = aws_ecr_repository.executor[0].name
  policy     = data.aws_iam_policy_document.ecr_pull.json
}
