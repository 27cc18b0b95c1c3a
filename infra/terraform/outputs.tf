output "gateway_url" {
  description = "The platform's one public address."
  value       = module.gateway.uri
}

output "internal_urls" {
  description = "Internal-ingress services, reachable from the VPC."
  value = {
    identity       = module.identity.uri
    policy-sidecar = module.policy_sidecar.uri
    audit-writer   = module.audit_writer.uri
  }
}

output "service_accounts" {
  value = {
    gateway        = module.gateway.service_account
    identity       = module.identity.service_account
    policy-sidecar = module.policy_sidecar.service_account
    audit-writer   = module.audit_writer.service_account
  }
}

output "redis_host" {
  value = google_redis_instance.main.host
}

output "sql_private_ip" {
  value = google_sql_database_instance.main.private_ip_address
}

output "operator_secrets" {
  description = "Secrets to give a value (gcloud secrets versions add) before the first deployment."
  value       = [for id in local.operator_secrets : google_secret_manager_secret.this[id].secret_id]
}

output "policy_bundle_url" {
  description = "Where the policy-sidecar reads its OPA bundle: upload `npm run policy:build`'s archive here."
  value       = "gs://${google_storage_bucket.policy_bundles.name}/${local.policy_bundle_object}"
}
