# The four apps, one Cloud Run service each. Only the gateway takes traffic from the internet; the
# others accept it from the VPC only (the gateway and the audit-writer reach them over Direct VPC
# egress). Their URLs are deterministic, so no service waits for another's creation.
data "google_project" "this" {
  project_id = var.project_id
}

locals {
  url    = { for app in ["identity", "policy-sidecar"] : app => "https://${var.name_prefix}-${app}-${data.google_project.this.number}.${var.region}.run.app" }
  image  = { for app in keys(var.services) : app => "${var.image_repository}/${app}:${var.initial_image_tag}" }
  secret = { for id, s in google_secret_manager_secret.this : id => s.secret_id }
  # One audit queue prefix for every producer and the writer (libs/contracts).
  shared_env = { AUDIT_QUEUE_PREFIX = "bull", LOG_LEVEL = "info" }
}

module "gateway" {
  source        = "./modules/service"
  project_id    = var.project_id
  region        = var.region
  name          = "${var.name_prefix}-gateway"
  image         = local.image["gateway"]
  port          = 8080
  public        = true
  min_instances = var.services["gateway"].min_instances
  max_instances = var.services["gateway"].max_instances
  cpu           = var.services["gateway"].cpu
  memory        = var.services["gateway"].memory
  concurrency   = var.services["gateway"].concurrency
  network       = var.network
  subnetwork    = var.subnetwork
  env = merge(local.shared_env, {
    IDENTITY_URL = local.url["identity"]
    POLICY_MODE  = "sidecar"
    POLICY_URL   = local.url["policy-sidecar"]
    # One worker per instance: Cloud Run scales instances, not processes.
    WEB_CONCURRENCY = "1"
  })
  secrets = {
    DATABASE_URL            = local.secret["gateway-database-url"]
    REDIS_URL               = local.secret["redis-url"]
    IDENTITY_CLIENT_SECRET  = local.secret["gateway-client-secret"]
    POLICY_TOKEN            = local.secret["policy-token"]
    UPSTREAM_SIGNING_SECRET = local.secret["upstream-signing-secret"]
  }
}

module "identity" {
  source        = "./modules/service"
  project_id    = var.project_id
  region        = var.region
  name          = "${var.name_prefix}-identity"
  image         = local.image["identity"]
  port          = 3333
  public        = false
  min_instances = var.services["identity"].min_instances
  max_instances = var.services["identity"].max_instances
  cpu           = var.services["identity"].cpu
  memory        = var.services["identity"].memory
  concurrency   = var.services["identity"].concurrency
  network       = var.network
  subnetwork    = var.subnetwork
  env = merge(local.shared_env, {
    ISSUER = local.url["identity"]
  })
  secrets = {
    DATABASE_URL        = local.secret["identity-database-url"]
    REDIS_URL           = local.secret["redis-url"]
    SIGNING_KEY_SECRETS = local.secret["identity-signing-key-secrets"]
  }
}

module "policy_sidecar" {
  source        = "./modules/service"
  project_id    = var.project_id
  region        = var.region
  name          = "${var.name_prefix}-policy-sidecar"
  image         = local.image["policy-sidecar"]
  port          = 8181
  public        = false
  min_instances = var.services["policy-sidecar"].min_instances
  max_instances = var.services["policy-sidecar"].max_instances
  cpu           = var.services["policy-sidecar"].cpu
  memory        = var.services["policy-sidecar"].memory
  concurrency   = var.services["policy-sidecar"].concurrency
  network       = var.network
  subnetwork    = var.subnetwork
  env = merge(local.shared_env, {
    # Served beyond loopback, so every call is authenticated and authorized (system.authz).
    HOST                  = "0.0.0.0"
    POLICY_AUTHENTICATION = "token"
    POLICY_AUTHORIZATION  = "basic"
    # The OPA bundle from the policy bucket (policy-bundles.tf) instead of the image's policy directory.
    POLICY_CONFIG = local.policy_bundle_config
  })
  secrets = {
    REDIS_URL    = local.secret["redis-url"]
    POLICY_TOKEN = local.secret["policy-token"]
  }
}

module "audit_writer" {
  source        = "./modules/service"
  project_id    = var.project_id
  region        = var.region
  name          = "${var.name_prefix}-audit-writer"
  image         = local.image["audit-writer"]
  port          = 8010
  public        = false
  min_instances = var.services["audit-writer"].min_instances
  max_instances = var.services["audit-writer"].max_instances
  cpu           = var.services["audit-writer"].cpu
  memory        = var.services["audit-writer"].memory
  concurrency   = var.services["audit-writer"].concurrency
  network       = var.network
  subnetwork    = var.subnetwork
  env = merge(local.shared_env, {
    IDENTITY_URL = local.url["identity"]
  })
  secrets = {
    DATABASE_URL                      = local.secret["audit-database-url"]
    REDIS_URL                         = local.secret["redis-url"]
    AUDIT_INTROSPECTION_CLIENT_SECRET = local.secret["audit-introspection-client-secret"]
    AUDIT_SIGNING_KEY                 = local.secret["audit-signing-key"]
  }
}
