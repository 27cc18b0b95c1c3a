# Every secret the services read, in Secret Manager. (Cloud SQL takes only TLS connections;
# sslmode=no-verify encrypts without checking the instance's self-signed certificate.) Terraform writes the values it creates itself
# (database and Redis URLs with generated passwords, the policy token); the others are added by an
# operator before the first deployment, never written here:
#   printf %s "$VALUE" | gcloud secrets versions add cloud-stack-gateway-client-secret --data-file=-
locals {
  generated_secrets = {
    identity-database-url = "postgres://identity:${urlencode(random_password.db["identity"].result)}@${google_sql_database_instance.main.private_ip_address}:5432/identity?sslmode=no-verify"
    gateway-database-url  = "postgres://gateway:${urlencode(random_password.db["gateway"].result)}@${google_sql_database_instance.main.private_ip_address}:5432/gateway?sslmode=no-verify"
    audit-database-url    = "postgres://audit:${urlencode(random_password.db["audit"].result)}@${google_sql_database_instance.main.private_ip_address}:5432/audit?sslmode=no-verify"
    redis-url             = "redis://:${google_redis_instance.main.auth_string}@${google_redis_instance.main.host}:${google_redis_instance.main.port}"
    policy-token          = random_password.policy_token.result
  }
  operator_secrets = [
    "identity-signing-key-secrets",      # SIGNING_KEY_SECRETS: 32+ characters each, comma-separated
    "gateway-client-secret",             # identity's `gateway` OAuth client
    "audit-introspection-client-secret", # identity's `audit-writer` OAuth client
    "upstream-signing-secret",           # X-Gateway-Signature towards the upstreams
    "audit-signing-key",                 # the audit-writer's Ed25519 digest-signing key
  ]
  secret_ids = toset(concat(keys(local.generated_secrets), local.operator_secrets))
}

resource "google_secret_manager_secret" "this" {
  for_each  = local.secret_ids
  secret_id = "${var.name_prefix}-${each.key}"
  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "generated" {
  for_each    = local.generated_secrets
  secret      = google_secret_manager_secret.this[each.key].id
  secret_data = each.value
}

resource "random_password" "policy_token" {
  length  = 48
  special = false
}
