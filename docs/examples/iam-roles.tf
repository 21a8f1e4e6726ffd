# The two IAM roles of the Athenz AWS guides, for one service (<domain>.<service>),
# as Terraform. The test suite extracts both trust policies from this file and
# has aws-sim enforce them (e2e/iam-as-code.test.ts).
#
#   terraform apply -var account_id=123456789012 -var domain=sports -var service=api

variable "account_id" {
  description = "The AWS account registered for the Athenz domain (zms-cli set-aws-account)"
  type        = string
}

variable "domain" {
  type    = string
  default = "sports"
}

variable "service" {
  type    = string
  default = "api"
}

# 1. The workload role: the Fargate task role or the EKS pod role. siad reads
#    <domain>.<service> from its name. ECS tasks and EKS Pod Identity may assume it
#    (Pod Identity also tags the session). For IRSA, trust the cluster's OIDC
#    provider instead (docs/siad.md).
resource "aws_iam_role" "workload" {
  name               = "${var.domain}.${var.service}-service"
  description        = "Workload role of ${var.domain}.${var.service}: siad assumes ${var.domain}.${var.service} with it"
  assume_role_policy = <<-POLICY
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Principal": { "Service": ["ecs-tasks.amazonaws.com", "pods.eks.amazonaws.com"] },
          "Action": ["sts:AssumeRole", "sts:TagSession"]
        }
      ]
    }
  POLICY
}

# 2. The role named exactly <domain>.<service>, with no permissions: the
#    workload role assumes it, and ZTS checks the assumed role's name with STS.
resource "aws_iam_role" "service" {
  name               = "${var.domain}.${var.service}"
  description        = "Athenz service identity ${var.domain}.${var.service} (no permissions)"
  assume_role_policy = <<-POLICY
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Principal": { "AWS": "${aws_iam_role.workload.arn}" },
          "Action": "sts:AssumeRole"
        }
      ]
    }
  POLICY
}

output "workload_role_arn" {
  value = aws_iam_role.workload.arn
}

output "service_role_arn" {
  value = aws_iam_role.service.arn
}
