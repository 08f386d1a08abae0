locals {
  # What is deployed comes from the Go code: shared/deploy writes
  # functions.json (go generate ./shared/deploy) and a Go test fails when
  # it is stale.
  manifest   = jsondecode(file("${path.module}/functions.json"))
  functions  = local.manifest.functions
  go_runtime = local.manifest.go_runtime
  webhooks   = { for name, f in local.functions : name => f if f.kind == "webhook" }

  # The API version the Go code's Stripe client (stripe-go v76) speaks;
  # endpoints render payloads at this version.
  stripe_api_version = "2023-10-16"
  api_key            = "STRIPE_SECRET_KEY"

  services = [
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "firebaserules.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]

  # Secrets one function owns (a webhook's signing secret), keyed
  # "function/KEY".
  per_function_secrets = merge([
    for name, f in local.functions : {
      for s in f.secrets : "${name}/${s.key}" => {
        function  = name
        key       = s.key
        secret_id = "${var.name_prefix}-${lower(replace(s.key, "_", "-"))}-${name}"
      } if s.per_function
    }
  ]...)

  # Secrets shared by the functions that read them, keyed by KEY. The API
  # key's secret is named by a variable because the bootstrap makes it.
  shared_secret_ids = merge([
    for f in local.functions : {
      for s in f.secrets : s.key => (
        s.key == local.api_key ? var.stripe_secret_key_secret_id : "${var.name_prefix}-${lower(replace(s.key, "_", "-"))}"
      ) if !s.per_function
    }
  ]...)
  created_shared_secrets = {
    for key, id in local.shared_secret_ids : key => id if key != local.api_key || var.create_stripe_secret_key_secret
  }

  source_bucket = coalesce(var.source_bucket_name, "${var.project_id}-${var.name_prefix}-source")

  common_env = merge(
    {
      GOOGLE_CLOUD_PROJECT = var.project_id
      FIRESTORE_DATABASE   = var.firestore_database
      STRIPE_LIVEMODE      = tostring(var.livemode)
      # Not read by the code: a new value makes a new revision, whose
      # instances resolve the secrets again.
      SECRETS_GENERATION = var.secrets_generation
    },
    var.stripe_api_base == "" ? {} : { STRIPE_API_BASE = var.stripe_api_base },
  )
  kind_env = {
    webhook = {
      STRIPE_REFETCH  = tostring(var.refetch)
      WEBHOOK_TIMEOUT = var.webhook_timeout
    }
    frontend = {
      ALLOWED_ORIGINS       = join(",", var.allowed_origins)
      ALLOWED_REDIRECT_URLS = join(",", var.allowed_redirect_urls)
      FRONTEND_TIMEOUT      = var.frontend_timeout
      CHECKOUT_SUCCESS_URL  = var.redirect_urls.checkout_success
      CHECKOUT_CANCEL_URL   = var.redirect_urls.checkout_cancel
      PORTAL_RETURN_URL     = var.redirect_urls.portal_return
    }
  }

  database_name = var.create_firestore_database ? google_firestore_database.this[0].name : var.firestore_database
}

resource "google_project_service" "enabled" {
  for_each = var.enable_services ? toset(local.services) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# --- Secrets ------------------------------------------------------------------

resource "google_secret_manager_secret" "per_function" {
  for_each = local.per_function_secrets

  project   = var.project_id
  secret_id = each.value.secret_id
  labels    = merge(var.labels, { function = each.value.function })

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "shared" {
  for_each = local.created_shared_secrets

  project   = var.project_id
  secret_id = each.value
  labels    = var.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "api_key" {
  count = var.create_stripe_secret_key_secret && var.stripe_secret_key != null ? 1 : 0

  secret      = google_secret_manager_secret.shared[local.api_key].id
  secret_data = var.stripe_secret_key
}

# --- Source -------------------------------------------------------------------

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = local.source_bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = var.labels

  # A live function does not need its archive; older ones go after 90
  # days (a rollback further back repackages from git).
  lifecycle_rule {
    condition {
      age = 90
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_storage_bucket_object" "source" {
  # The content's hash in the name: a changed archive is a new object, and
  # a new object redeploys every function.
  name   = "${var.name_prefix}-source-${filemd5(var.source_archive)}.zip"
  bucket = google_storage_bucket.source.name
  source = var.source_archive
}

# --- Functions ----------------------------------------------------------------

module "function" {
  source   = "./modules/function"
  for_each = local.functions

  project_id            = var.project_id
  region                = var.region
  name                  = "${var.name_prefix}-${each.key}"
  description           = "${each.value.kind} function ${each.value.entry_point}"
  entry_point           = each.value.entry_point
  runtime               = local.go_runtime
  source_bucket         = google_storage_bucket.source.name
  source_object         = google_storage_bucket_object.source.name
  build_service_account = var.build_service_account
  public                = each.value.public
  labels                = merge(var.labels, { function = each.key, kind = each.value.kind })

  environment = merge(local.common_env, local.kind_env[each.value.kind])

  # Exactly the secrets the manifest says the function reads.
  secrets = {
    for s in each.value.secrets : s.key => {
      env = s.env
      secret_id = (s.per_function
        ? google_secret_manager_secret.per_function["${each.key}/${s.key}"].secret_id
        : try(google_secret_manager_secret.shared[s.key].secret_id, local.shared_secret_ids[s.key])
      )
    }
  }

  memory_mb       = coalesce(try(var.function_overrides[each.key].memory_mb, null), var.memory_mb)
  timeout_seconds = coalesce(try(var.function_overrides[each.key].timeout_seconds, null), var.timeout_seconds)
  max_instances   = coalesce(try(var.function_overrides[each.key].max_instances, null), var.max_instances)
  min_instances   = coalesce(try(var.function_overrides[each.key].min_instances, null), var.min_instances)

  depends_on = [google_project_service.enabled, google_firestore_database.this]
}

# --- Stripe -------------------------------------------------------------------

resource "stripe_webhook_endpoint" "this" {
  for_each = var.manage_webhook_endpoints ? local.webhooks : {}

  url            = module.function[each.key].url
  enabled_events = each.value.events
  api_version    = local.stripe_api_version
  description    = "${var.name_prefix}: ${each.value.entry_point}"
  metadata = {
    function   = module.function[each.key].name
    managed_by = "terraform"
  }
}

# Stripe returns an endpoint's signing secret only when it creates it: it
# goes straight into a new version of that function's secret.
resource "google_secret_manager_secret_version" "webhook" {
  for_each = var.manage_webhook_endpoints ? local.webhooks : {}

  secret      = google_secret_manager_secret.per_function["${each.key}/STRIPE_WEBHOOK_SECRET"].id
  secret_data = stripe_webhook_endpoint.this[each.key].secret
}

# --- Firestore ----------------------------------------------------------------

resource "google_firestore_database" "this" {
  count = var.create_firestore_database ? 1 : 0

  project                 = var.project_id
  name                    = var.firestore_database
  location_id             = var.firestore_location
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  deletion_policy         = "ABANDON"

  depends_on = [google_project_service.enabled]
}

# Processed-event markers expire on their own.
resource "google_firestore_field" "stripe_events_ttl" {
  project    = var.project_id
  database   = local.database_name
  collection = "stripe_events"
  field      = "expireAt"

  ttl_config {}

  # A TTL timestamp is never queried: no single-field index.
  index_config {}

  depends_on = [google_project_service.enabled]
}

resource "google_firestore_index" "this" {
  for_each = { for i in var.firestore_indexes : "${i.collection}:${join(",", [for f in i.fields : f.field_path])}" => i }

  project    = var.project_id
  database   = local.database_name
  collection = each.value.collection

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.field_path
      order      = fields.value.order
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_firebaserules_ruleset" "firestore" {
  count = var.manage_firestore_rules ? 1 : 0

  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = file("${path.module}/../firestore.rules")
    }
  }

  # A released ruleset cannot be deleted: release the new one first.
  lifecycle {
    create_before_destroy = true
  }

  depends_on = [google_project_service.enabled]
}

resource "google_firebaserules_release" "firestore" {
  count = var.manage_firestore_rules ? 1 : 0

  project      = var.project_id
  name         = local.database_name == "(default)" ? "cloud.firestore" : "cloud.firestore/${local.database_name}"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore[0].name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore[0]]
  }
}

# --- Monitoring ---------------------------------------------------------------

locals {
  webhook_services = join(" OR ", [for name in keys(local.webhooks) : "\"${var.name_prefix}-${name}\""])
  log_metrics = {
    webhook_5xx = {
      description = "Webhook requests answered with a 5xx (Stripe retries them)."
      filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=(${local.webhook_services}) AND httpRequest.status>=500"
      threshold   = var.webhook_5xx_threshold
    }
    webhook_signature_failures = {
      description = "Webhook requests rejected for a missing or wrong Stripe signature (a wrong signing secret, or someone probing the URL)."
      filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=(${local.webhook_services}) AND jsonPayload.message=\"webhook rejected\" AND jsonPayload.error:\"signature\""
      threshold   = var.signature_failure_threshold
    }
  }
}

resource "google_logging_metric" "this" {
  for_each = local.log_metrics

  project     = var.project_id
  name        = "${var.name_prefix}/${each.key}"
  description = each.value.description
  filter      = each.value.filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    labels {
      key         = "service_name"
      value_type  = "STRING"
      description = "Function (Cloud Run service) that answered."
    }
  }

  label_extractors = {
    service_name = "EXTRACT(resource.labels.service_name)"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "this" {
  for_each = local.log_metrics

  project               = var.project_id
  display_name          = "${var.name_prefix}: ${each.key}"
  combiner              = "OR"
  notification_channels = var.notification_channels

  documentation {
    content   = "${each.value.description} See the README's Deploy section (verify, rotation, rollback)."
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "${each.key} above ${each.value.threshold} in 5 min"

    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.this[each.key].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service_name"]
      }
    }
  }
}
