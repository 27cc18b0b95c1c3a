# Cloud SQL for PostgreSQL: one regional (HA) instance on a private IP, one database and one user
# per service, as docker-compose.yml and `npm start` lay them out.
resource "google_sql_database_instance" "main" {
  name                = "${var.name_prefix}-pg"
  region              = var.region
  database_version    = "POSTGRES_17"
  deletion_protection = var.deletion_protection

  settings {
    tier              = var.sql_tier
    edition           = "ENTERPRISE"
    availability_type = "REGIONAL"
    disk_size         = var.sql_disk_size_gb
    disk_autoresize   = true

    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7
    }

    database_flags {
      name  = "max_connections"
      value = "400"
    }
  }
}

locals {
  databases = toset(["identity", "gateway", "audit"])
}

resource "google_sql_database" "this" {
  for_each = local.databases
  name     = each.key
  instance = google_sql_database_instance.main.name
}

resource "random_password" "db" {
  for_each = local.databases
  length   = 40
  special  = false
}

resource "google_sql_user" "this" {
  for_each = local.databases
  name     = each.key
  instance = google_sql_database_instance.main.name
  password = random_password.db[each.key].result
}
