# What the deployment must wire, checked offline with mock providers: no
# cloud account and no Stripe account are involved. The expectations are
# computed from functions.json, which a Go test ties to the Go code
# (shared/deploy, billing.Groups, go.mod).

mock_provider "google" {}
mock_provider "stripe" {}

variables {
  project_id     = "billing-test-project"
  source_archive = "tests/fixtures/source.zip"
}

run "every_function_has_its_own_service_account" {
  command = apply

  assert {
    condition     = keys(module.function) == keys(jsondecode(file("functions.json")).functions)
    error_message = "Every function in functions.json must be deployed, and nothing else."
  }

  assert {
    condition     = length(distinct([for m in module.function : m.service_account_id])) == length(module.function)
    error_message = "Two functions share a service account."
  }

  assert {
    condition     = alltrue([for name, m in module.function : m.service_account_id == "billing-${name}"])
    error_message = "A function runs as a service account other than its own."
  }

  assert {
    condition     = alltrue([for m in module.function : jsonencode(m.project_roles) == jsonencode(["roles/datastore.user"])])
    error_message = "A function's service account has project roles beyond Firestore access (secrets are granted per secret, never project-wide)."
  }
}

run "each_function_reads_only_its_own_secrets" {
  command = apply

  # The (function, secret, role, member) grants that exist must equal the
  # ones the manifest calls for: an extra grant, a missing one or a shared
  # signing secret fails here.
  assert {
    condition = toset(flatten([
      for name, m in module.function : [
        for g in m.secret_grants : "${name} ${g.secret_id} ${g.role} ${g.member}"
      ]
      ])) == toset(flatten([
      for name, f in jsondecode(file("functions.json")).functions : [
        for s in f.secrets : join(" ", [
          name,
          s.per_function ? "billing-${lower(replace(s.key, "_", "-"))}-${name}" : (s.key == "STRIPE_SECRET_KEY" ? "stripe-secret-key" : "billing-${lower(replace(s.key, "_", "-"))}"),
          "roles/secretmanager.secretAccessor",
          "serviceAccount:billing-${name}@billing-test-project.iam.gserviceaccount.com",
        ])
      ]
    ]))
    error_message = "Secret accessor grants differ from the secrets each function reads (functions.json)."
  }

  assert {
    condition = alltrue(flatten([
      for name, f in jsondecode(file("functions.json")).functions : [
        for s in f.secrets : module.function[name].environment[s.env] == "projects/billing-test-project/secrets/${s.per_function ? "billing-${lower(replace(s.key, "_", "-"))}-${name}" : "stripe-secret-key"}/versions/latest"
      ]
    ]))
    error_message = "A function's *_SECRET_NAME variable does not name its own secret's latest version."
  }

  assert {
    condition = alltrue([
      for name, f in jsondecode(file("functions.json")).functions :
      length([for k in keys(module.function[name].environment) : k if endswith(k, "_SECRET_NAME")]) == length(f.secrets)
    ])
    error_message = "A function is told about a secret it does not read."
  }

  assert {
    condition     = length(distinct(values(output.webhook_secret_ids))) == length(output.webhook_secret_ids)
    error_message = "Webhook functions must not share a signing secret."
  }

  assert {
    condition     = length(google_secret_manager_secret.shared) == 0 && length(google_secret_manager_secret_version.api_key) == 0
    error_message = "By default the API key's secret and value come from the bootstrap, never from Terraform state."
  }
}

run "endpoints_enable_exactly_the_go_event_lists" {
  command = apply

  assert {
    condition     = jsonencode(keys(stripe_webhook_endpoint.this)) == jsonencode(sort([for name, f in jsondecode(file("functions.json")).functions : name if f.kind == "webhook"]))
    error_message = "There must be one Stripe endpoint per webhook function."
  }

  assert {
    condition = alltrue([
      for name, e in stripe_webhook_endpoint.this : jsonencode(e.enabled_events) == jsonencode(jsondecode(file("functions.json")).functions[name].events)
    ])
    error_message = "An endpoint's enabled_events differ from its group's event list in the Go code."
  }

  assert {
    condition     = alltrue([for name, e in stripe_webhook_endpoint.this : e.url == module.function[name].url && e.api_version == "2023-10-16"])
    error_message = "An endpoint must post to its own function's URL at API version 2023-10-16."
  }

  assert {
    condition = alltrue([
      for name, v in google_secret_manager_secret_version.webhook :
      v.secret == google_secret_manager_secret.per_function["${name}/STRIPE_WEBHOOK_SECRET"].id &&
      nonsensitive(v.secret_data == stripe_webhook_endpoint.this[name].secret)
    ])
    error_message = "Each endpoint's signing secret must become a version of its own function's secret."
  }
}

run "runtime_and_entry_points_match_the_go_code" {
  command = apply

  assert {
    condition     = alltrue([for m in module.function : m.runtime == jsondecode(file("functions.json")).go_runtime])
    error_message = "Functions must be built with the runtime of go.mod's Go version."
  }

  assert {
    condition     = can(regex("^go1[0-9]+$", local.go_runtime))
    error_message = "go_runtime must be a Cloud Run functions Go runtime id."
  }

  assert {
    condition     = alltrue([for name, m in module.function : m.entry_point == jsondecode(file("functions.json")).functions[name].entry_point])
    error_message = "A function's entry point differs from the name its Go package registers."
  }

  assert {
    condition     = google_storage_bucket_object.source.name == "billing-source-${filemd5("tests/fixtures/source.zip")}.zip"
    error_message = "The uploaded archive's name must carry its MD5, so a new archive redeploys."
  }
}

run "only_public_functions_are_open_to_all" {
  command = apply

  assert {
    condition = alltrue([
      for name, f in jsondecode(file("functions.json")).functions :
      jsonencode(module.function[name].invokers) == jsonencode(f.public ? ["allUsers"] : [])
    ])
    error_message = "allUsers may invoke exactly the functions marked public."
  }
}

run "a_private_function_gets_no_public_invoker" {
  command = apply

  module {
    source = "./modules/function"
  }

  variables {
    region        = "europe-west1"
    name          = "billing-internal"
    entry_point   = "Internal"
    runtime       = "go126"
    source_bucket = "bucket"
    source_object = "object.zip"
    public        = false
    secrets = {
      STRIPE_SECRET_KEY = { env = "STRIPE_SECRET_KEY_SECRET_NAME", secret_id = "stripe-secret-key" }
    }
  }

  assert {
    condition     = length(google_cloud_run_v2_service_iam_member.public) == 0
    error_message = "A private function must not be invokable by allUsers."
  }

  assert {
    condition     = jsonencode(keys(google_secret_manager_secret_iam_member.access)) == jsonencode(["STRIPE_SECRET_KEY"])
    error_message = "The module must grant exactly the secrets it is given."
  }
}

run "endpoints_managed_by_hand" {
  command = apply

  variables {
    manage_webhook_endpoints = false
  }

  assert {
    condition     = length(stripe_webhook_endpoint.this) == 0 && length(google_secret_manager_secret_version.webhook) == 0
    error_message = "With endpoints managed by hand, Terraform must create no endpoint and write no signing secret."
  }

  assert {
    condition     = length(output.webhook_secret_ids) == length(local.webhooks)
    error_message = "The signing secrets themselves still exist, for the operator to fill."
  }
}

run "api_key_from_a_sensitive_variable" {
  command = apply

  variables {
    create_stripe_secret_key_secret = true
    stripe_secret_key               = "sk_test_not_a_real_key"
  }

  assert {
    condition     = jsonencode(keys(google_secret_manager_secret.shared)) == jsonencode(["STRIPE_SECRET_KEY"]) && length(google_secret_manager_secret_version.api_key) == 1
    error_message = "Asked to, Terraform creates the API key's secret and stores the key."
  }
}

run "firestore" {
  command = apply

  assert {
    condition     = google_firestore_field.stripe_events_ttl.collection == "stripe_events" && google_firestore_field.stripe_events_ttl.field == "expireAt"
    error_message = "stripe_events.expireAt must be the TTL field."
  }

  assert {
    condition     = google_firebaserules_release.firestore[0].name == "cloud.firestore" && one(one(google_firebaserules_ruleset.firestore[0].source).files).content == file("../firestore.rules")
    error_message = "The repository's firestore.rules must be released for the default database."
  }

  assert {
    condition     = length(google_firestore_database.this) == 0
    error_message = "The database is only created when asked."
  }

  assert {
    condition     = length(google_logging_metric.this) == 2 && length(google_monitoring_alert_policy.this) == 2
    error_message = "Webhook 5xx and signature failures each need a log metric and an alert."
  }
}
