output "function_urls" {
  description = "HTTPS URL of each function, by name."
  value       = { for name, m in module.function : name => m.url }
}

output "service_accounts" {
  description = "Email of each function's own service account, by name."
  value       = { for name, m in module.function : name => m.service_account_email }
}

output "webhook_endpoint_ids" {
  description = "Stripe webhook endpoint id of each webhook function (empty when endpoints are managed by hand)."
  value       = { for name, e in stripe_webhook_endpoint.this : name => e.id }
}

output "webhook_secret_ids" {
  description = "Secret Manager secret holding each webhook function's signing secret(s)."
  value       = { for name, _ in local.webhooks : name => google_secret_manager_secret.per_function["${name}/STRIPE_WEBHOOK_SECRET"].secret_id }
}

output "stripe_secret_key_secret_id" {
  description = "Secret Manager secret holding the Stripe API key."
  value       = var.stripe_secret_key_secret_id
}

output "source_object" {
  description = "Uploaded source archive the functions are built from."
  value       = "gs://${google_storage_bucket.source.name}/${google_storage_bucket_object.source.name}"
}
