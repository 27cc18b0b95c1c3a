# The bucket the policy-sidecar loads its OPA bundle from (OPA's GCS pattern: the JSON API's objects
# URL, `?alt=media`, an access token from the metadata server). Only the sidecar's own service
# account may read it; deployers upload with `gcloud storage cp` (see README.md).
resource "google_storage_bucket" "policy_bundles" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-policy-bundles"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  # Every upload stays as a noncurrent version: a bad bundle is rolled back by restoring the previous one.
  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 20
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket_iam_member" "policy_sidecar_reads_bundles" {
  bucket = google_storage_bucket.policy_bundles.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${module.policy_sidecar.service_account}"
}

locals {
  policy_bundle_object = "bundle.tar.gz"
  # OPA's own configuration (JSON is YAML), given to the sidecar as POLICY_CONFIG.
  policy_bundle_config = jsonencode({
    services = {
      gcs = {
        url = "https://storage.googleapis.com/storage/v1/b/${google_storage_bucket.policy_bundles.name}/o"
        credentials = {
          gcp_metadata = { scopes = ["https://www.googleapis.com/auth/devstorage.read_only"] }
        }
      }
    }
    bundles = {
      gateway = {
        service  = "gcs"
        resource = "${local.policy_bundle_object}?alt=media"
        polling  = { min_delay_seconds = 60, max_delay_seconds = 120 }
      }
    }
  })
}
