# One app as one Cloud Run service with its own service account. The account can read only the
# secrets named in var.secrets and nothing else in the project (plus writing its traces).
terraform {
  required_providers {
    google = {
      source = "hashicorp/google"
    }
  }
}

resource "google_service_account" "this" {
  account_id   = var.name
  display_name = "Cloud Run: ${var.name}"
}

resource "google_secret_manager_secret_iam_member" "reads" {
  for_each  = var.secrets
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.this.member
}

resource "google_project_iam_member" "traces" {
  project = var.project_id
  role    = "roles/cloudtrace.agent"
  member  = google_service_account.this.member
}

resource "google_cloud_run_v2_service" "this" {
  name                = var.name
  location            = var.region
  ingress             = var.public ? "INGRESS_TRAFFIC_ALL" : "INGRESS_TRAFFIC_INTERNAL_ONLY"
  deletion_protection = false
  # Callers are authenticated by the apps themselves (OAuth client secrets, the policy token,
  # introspected bearer tokens); internal services are reachable from the VPC only.
  invoker_iam_disabled = true

  template {
    service_account                  = google_service_account.this.email
    max_instance_request_concurrency = var.concurrency
    # The apps drain within SHUTDOWN_TIMEOUT_MS (8 s) of SIGTERM, inside Cloud Run's 10 s.
    timeout = "${var.request_timeout_seconds}s"

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    vpc_access {
      network_interfaces {
        network    = var.network
        subnetwork = var.subnetwork
      }
      # All traffic through the VPC: *.run.app calls to the internal services count as internal.
      egress = "ALL_TRAFFIC"
    }

    containers {
      image = var.image

      ports {
        container_port = var.port
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        # Background work (BullMQ workers, schedulers, flushes) needs CPU between requests.
        cpu_idle          = !var.always_on_cpu
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = var.env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = var.secrets
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value
              version = "latest"
            }
          }
        }
      }

      # Ready to serve: migrations done, PostgreSQL and Redis answering.
      startup_probe {
        http_get {
          path = "/ready"
          port = var.port
        }
        initial_delay_seconds = 0
        period_seconds        = 2
        timeout_seconds       = 2
        failure_threshold     = 60
      }

      # Alive: the event loop answers. Not /ready, so a dependency outage does not restart every instance.
      liveness_probe {
        http_get {
          path = "/health"
          port = var.port
        }
        period_seconds    = 10
        timeout_seconds   = 3
        failure_threshold = 3
      }
    }
  }

  lifecycle {
    # CI deploys new images (gcloud run deploy); Terraform owns everything else.
    ignore_changes = [template[0].containers[0].image, client, client_version]
  }

  depends_on = [google_secret_manager_secret_iam_member.reads]
}
