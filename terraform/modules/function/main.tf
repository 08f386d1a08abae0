resource "google_service_account" "this" {
  project      = var.project_id
  account_id   = var.name
  display_name = "Cloud Run function ${var.name}"
  description  = "Runs ${var.entry_point}; may read only its own secrets."
}

locals {
  # Built from the account id rather than the computed email, so grants are
  # known at plan time; user-managed accounts always have this address.
  member = "serviceAccount:${google_service_account.this.account_id}@${var.project_id}.iam.gserviceaccount.com"

  secret_env = {
    for key, s in var.secrets : s.env => "projects/${var.project_id}/secrets/${s.secret_id}/versions/latest"
  }
}

resource "google_project_iam_member" "roles" {
  for_each = toset(var.project_roles)

  project = var.project_id
  role    = each.value
  member  = local.member
}

# One grant per secret the function reads, on that secret only.
resource "google_secret_manager_secret_iam_member" "access" {
  for_each = var.secrets

  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.member
}

resource "google_cloudfunctions2_function" "this" {
  project     = var.project_id
  location    = var.region
  name        = var.name
  description = var.description
  labels      = var.labels

  build_config {
    runtime         = var.runtime
    entry_point     = var.entry_point
    service_account = var.build_service_account

    source {
      storage_source {
        bucket = var.source_bucket
        object = var.source_object
      }
    }
  }

  service_config {
    available_memory               = "${var.memory_mb}Mi"
    timeout_seconds                = var.timeout_seconds
    max_instance_count             = var.max_instances
    min_instance_count             = var.min_instances
    service_account_email          = google_service_account.this.email
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    environment_variables          = merge(var.environment, local.secret_env)
  }

  # The first request resolves the secrets; grant access before any
  # instance can start.
  depends_on = [google_secret_manager_secret_iam_member.access, google_project_iam_member.roles]
}

resource "google_cloud_run_v2_service_iam_member" "public" {
  count = var.public ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.this.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
