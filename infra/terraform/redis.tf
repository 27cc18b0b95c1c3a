# Memorystore for Redis, Standard tier: a replica in another zone with automatic failover. It offers
# RDB snapshots, not an append-only file: docs/operations.md says what a loss of both nodes costs
# the audit queue and when to move to a cluster. BullMQ's keys must never be evicted.
resource "google_redis_instance" "main" {
  name                    = "${var.name_prefix}-redis"
  region                  = var.region
  tier                    = "STANDARD_HA"
  memory_size_gb          = var.redis_memory_size_gb
  redis_version           = "REDIS_7_2"
  authorized_network      = var.network
  connect_mode            = "PRIVATE_SERVICE_ACCESS"
  auth_enabled            = true
  transit_encryption_mode = "DISABLED" # reachable only inside the VPC; the services' REDIS_URL is redis://
  read_replicas_mode      = "READ_REPLICAS_DISABLED"

  redis_configs = {
    maxmemory-policy       = "noeviction"
    notify-keyspace-events = ""
  }

  persistence_config {
    persistence_mode    = "RDB"
    rdb_snapshot_period = "ONE_HOUR"
  }

  maintenance_policy {
    weekly_maintenance_window {
      day = "SUNDAY"
      start_time {
        hours   = 3
        minutes = 0
      }
    }
  }
}
