variable "project_id" {
  description = "Google Cloud project to deploy into."
  type        = string
}

variable "region" {
  description = "Region of every Cloud Run service, the Redis instance and the Cloud SQL instance."
  type        = string
  default     = "europe-west1"
}

variable "name_prefix" {
  description = "Prefix of every resource name (one stack per prefix, e.g. staging and production in one project)."
  type        = string
  default     = "cloud-stack"
}

variable "image_repository" {
  description = "Artifact Registry repository holding the images, e.g. europe-west1-docker.pkg.dev/PROJECT/cloud-stack; CI pushes <app>:<git sha> there."
  type        = string
}

variable "initial_image_tag" {
  description = "Tag of the first deployment; later deployments come from CI (gcloud run deploy), which Terraform then leaves alone."
  type        = string
  default     = "latest"
}

variable "network" {
  description = "VPC network (id or self link) with private services access, for Direct VPC egress to Redis, Cloud SQL and the internal services."
  type        = string
}

variable "subnetwork" {
  description = "Subnetwork of var.network the services' instances take addresses from (a /26 or larger per 50 instances). Give the network Cloud NAT so the gateway reaches public upstreams."
  type        = string
}

variable "services" {
  description = "Sizing of each app's Cloud Run service; see docs/operations.md for why these values."
  type = map(object({
    min_instances = number
    max_instances = number
    cpu           = string
    memory        = string
    concurrency   = number
  }))
  default = {
    gateway        = { min_instances = 2, max_instances = 50, cpu = "2", memory = "1Gi", concurrency = 400 }
    identity       = { min_instances = 1, max_instances = 10, cpu = "1", memory = "512Mi", concurrency = 200 }
    policy-sidecar = { min_instances = 1, max_instances = 20, cpu = "1", memory = "512Mi", concurrency = 400 }
    audit-writer   = { min_instances = 1, max_instances = 5, cpu = "1", memory = "1Gi", concurrency = 80 }
  }

  validation {
    condition     = alltrue([for name in ["gateway", "identity", "policy-sidecar", "audit-writer"] : contains(keys(var.services), name)])
    error_message = "services needs an entry for each of gateway, identity, policy-sidecar and audit-writer."
  }
  validation {
    condition     = alltrue([for s in values(var.services) : s.min_instances >= 0 && s.max_instances >= max(1, s.min_instances) && s.concurrency >= 1 && s.concurrency <= 1000])
    error_message = "each service needs 0 <= min_instances <= max_instances, max_instances >= 1 and 1 <= concurrency <= 1000."
  }
}

variable "redis_memory_size_gb" {
  description = "Memorystore capacity. BullMQ keys must never be evicted (noeviction): size for the deepest audit backlog you accept."
  type        = number
  default     = 5
}

variable "sql_tier" {
  description = "Cloud SQL machine type."
  type        = string
  default     = "db-custom-2-7680"
}

variable "sql_disk_size_gb" {
  type    = number
  default = 50
}

variable "deletion_protection" {
  description = "Refuse to destroy the Cloud SQL instance (keep true outside throw-away stacks)."
  type        = bool
  default     = true
}
