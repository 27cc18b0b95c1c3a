# Cloud Stack on Google Cloud: one Cloud Run service per app, Memorystore for Redis, Cloud SQL for
# PostgreSQL, Secret Manager. See README.md in this folder.
terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.20"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
