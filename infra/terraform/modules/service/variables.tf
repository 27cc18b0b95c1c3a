variable "project_id" {
  type = string
}

variable "region" {
  type = string
}

variable "name" {
  description = "Service and service-account name."
  type        = string
}

variable "image" {
  type = string
}

variable "port" {
  type = number
}

variable "public" {
  description = "true: reachable from the internet (the gateway); false: internal ingress only."
  type        = bool
}

variable "min_instances" {
  type = number
}

variable "max_instances" {
  type = number
}

variable "cpu" {
  type = string
}

variable "memory" {
  type = string
}

variable "concurrency" {
  type = number
}

variable "always_on_cpu" {
  description = "Keep CPU allocated between requests (instance-based billing)."
  type        = bool
  default     = true
}

variable "request_timeout_seconds" {
  type    = number
  default = 300
}

variable "network" {
  type = string
}

variable "subnetwork" {
  type = string
}

variable "env" {
  description = "Plain environment variables: nothing secret (those go in var.secrets)."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Environment variable name => Secret Manager secret id, read at its latest version."
  type        = map(string)
  default     = {}
}
