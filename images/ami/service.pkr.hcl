# AMI of the reference service for the EC2 platform. CI builds it with
#   packer init images/ami && packer build -var "revision=$GITHUB_SHA" images/ami/service.pkr.hcl
# and re-pins images/images.lock.json from packer-manifest.json (see images/README.md).
# An AMI is never patched in place: a change is a new build, a new id per region, a new lock.

packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = "~> 1.3"
    }
  }
}

variable "revision" {
  type        = string
  description = "Git commit the image is built from (tagged on the AMI, recorded in the lock)."
}

variable "build_region" {
  type    = string
  default = "us-east-1"
}

variable "copy_regions" {
  type        = list(string)
  description = "Every other region a stack runs in: the lock must hold an AMI id for each."
  default     = ["us-west-2", "eu-west-1"]
}

variable "instance_type" {
  type    = string
  default = "t4g.small"
}

locals {
  image_name = "reliability-stack-checkout-${var.revision}"
}

source "amazon-ebs" "checkout" {
  region        = var.build_region
  ami_regions   = var.copy_regions
  instance_type = var.instance_type
  ssh_username  = "ec2-user"
  ami_name      = local.image_name

  # The base is looked up at build time; the build's *output* is what the stacks pin.
  source_ami_filter {
    owners      = ["amazon"]
    most_recent = true
    filters = {
      name                = "al2023-ami-2023.*-kernel-*-arm64"
      architecture        = "arm64"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
  }

  # IMDSv2 only, during the build and on every instance launched from the AMI.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
  imds_support = "v2.0"

  encrypt_boot = true

  tags = {
    Name      = local.image_name
    Service   = "checkout"
    Revision  = var.revision
    ManagedBy = "reliability-stack"
  }
}

build {
  sources = ["source.amazon-ebs.checkout"]

  provisioner "file" {
    source      = "${path.root}/../service/app.py"
    destination = "/tmp/app.py"
  }

  provisioner "shell" {
    inline = [
      "sudo dnf install -y python3",
      "sudo useradd --system --uid 10001 --no-create-home app",
      "sudo install -D -o 10001 -m 0555 /tmp/app.py /opt/checkout/app.py",
      # systemd sends SIGTERM and waits TimeoutStopSec: the app drains within SHUTDOWN_SECONDS.
      "printf '[Unit]\\nDescription=checkout\\nAfter=network-online.target\\n[Service]\\nUser=app\\nEnvironment=PORT=8080 SHUTDOWN_SECONDS=20 SERVICE_NAME=checkout\\nExecStart=/usr/bin/python3 /opt/checkout/app.py\\nRestart=always\\nTimeoutStopSec=30\\n[Install]\\nWantedBy=multi-user.target\\n' | sudo tee /etc/systemd/system/checkout.service",
      "sudo systemctl enable checkout.service",
    ]
  }

  # artifact_id = "us-east-1:ami-...,us-west-2:ami-...": the input of the re-pin step.
  post-processor "manifest" {
    output     = "packer-manifest.json"
    strip_path = true
    custom_data = {
      revision = var.revision
    }
  }
}
