output "name" {
  description = "Function name."
  value       = google_cloudfunctions2_function.this.name
}

output "url" {
  description = "HTTPS URL of the function."
  value       = google_cloudfunctions2_function.this.url
}

output "service_account_email" {
  description = "Email of the function's own service account."
  value       = google_service_account.this.email
}

output "service_account_id" {
  description = "Account id of the function's own service account."
  value       = google_service_account.this.account_id
}

output "runtime" {
  description = "Runtime the function is built with."
  value       = google_cloudfunctions2_function.this.build_config[0].runtime
}

output "entry_point" {
  description = "Entry point the function invokes."
  value       = google_cloudfunctions2_function.this.build_config[0].entry_point
}

output "environment" {
  description = "Environment variables of the function (secret names only, never values)."
  value       = google_cloudfunctions2_function.this.service_config[0].environment_variables
}

output "secret_grants" {
  description = "Every secret IAM grant of the function: secret id, role and member."
  value       = [for g in google_secret_manager_secret_iam_member.access : { secret_id = g.secret_id, role = g.role, member = g.member }]
}

output "project_roles" {
  description = "Project roles of the function's service account."
  value       = sort([for r in google_project_iam_member.roles : r.role])
}

output "invokers" {
  description = "Members granted run.invoker on the function."
  value       = [for m in google_cloud_run_v2_service_iam_member.public : m.member]
}
