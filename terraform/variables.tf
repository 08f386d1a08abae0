variable "project_id" {
  type        = string
  description = "Google Cloud project to deploy into."
}

variable "region" {
  type        = string
  description = "Region of the functions and the source bucket."
  default     = "europe-west1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every function, service account and secret name."
  default     = "billing"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,7}$", var.name_prefix))
    error_message = "name_prefix must be 2-8 lowercase letters, digits or dashes, starting with a letter (service account ids allow 30 characters)."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels on the functions, secrets and bucket."
  default     = {}
}

variable "enable_services" {
  type        = bool
  description = "Enable the project services (APIs) the deployment uses. Turn off where a platform team manages them."
  default     = true
}

# --- Source -----------------------------------------------------------------

variable "source_archive" {
  type        = string
  description = "Path of the zip of the module source made by scripts/package; its MD5 is in the uploaded object's name, so a changed archive redeploys every function."

  validation {
    condition     = fileexists(var.source_archive)
    error_message = "source_archive must name an existing file; make it with scripts/package."
  }
}

variable "source_bucket_name" {
  type        = string
  description = "Bucket for source archives; empty means PROJECT-PREFIX-source."
  default     = ""
}

variable "build_service_account" {
  type        = string
  description = "Service account that builds the functions (projects/P/serviceAccounts/EMAIL); null uses the project's default build account."
  default     = null
}

# --- Functions --------------------------------------------------------------

variable "memory_mb" {
  type        = number
  description = "Memory per function instance, in MiB."
  default     = 256

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 256
    error_message = "memory_mb must be between 128 and 256."
  }
}

variable "timeout_seconds" {
  type        = number
  description = "Request timeout of each function, in seconds. Stripe waits about 10 s for a webhook answer; a longer timeout only matters for retries of slow Stripe calls."
  default     = 60

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 3600
    error_message = "timeout_seconds must be between 1 and 3600."
  }
}

variable "max_instances" {
  type        = number
  description = "Upper bound on instances of each function."
  default     = 10

  validation {
    condition     = var.max_instances >= 1 && var.max_instances <= 1000
    error_message = "max_instances must be between 1 and 1000."
  }
}

variable "min_instances" {
  type        = number
  description = "Instances of each function kept warm (0 scales to zero)."
  default     = 0

  validation {
    condition     = var.min_instances >= 0 && var.min_instances <= 10
    error_message = "min_instances must be between 0 and 10."
  }
}

variable "function_overrides" {
  type = map(object({
    memory_mb       = optional(number)
    timeout_seconds = optional(number)
    max_instances   = optional(number)
    min_instances   = optional(number)
  }))
  description = "Per-function settings that replace the defaults above, keyed by the function names in functions.json."
  default     = {}

  validation {
    condition = alltrue([
      for o in values(var.function_overrides) : o.memory_mb == null ? true : (o.memory_mb >= 128 && o.memory_mb <= 256)
    ])
    error_message = "function_overrides memory_mb must be between 128 and 256."
  }
}

# --- Application settings -----------------------------------------------------

variable "livemode" {
  type        = bool
  description = "Stripe mode of the deployment (STRIPE_LIVEMODE): true takes live events and ignores test ones, false the reverse."
  default     = false
}

variable "refetch" {
  type        = bool
  description = "Read each object back from the Stripe API instead of trusting the payload (STRIPE_REFETCH)."
  default     = true
}

variable "stripe_api_base" {
  type        = string
  description = "Another Stripe API base URL (STRIPE_API_BASE); empty for api.stripe.com."
  default     = ""
}

variable "webhook_timeout" {
  type        = string
  description = "Bound on one event's work (WEBHOOK_TIMEOUT, a Go duration); a slower event answers 503 and Stripe retries it."
  default     = "10s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m)$", var.webhook_timeout))
    error_message = "webhook_timeout must be a duration such as 20s."
  }
}

variable "allowed_origins" {
  type        = list(string)
  description = "Origins the frontend functions accept requests from (ALLOWED_ORIGINS, comma-separated)."
  default     = []

  validation {
    condition     = alltrue([for o in var.allowed_origins : can(regex("^https?://[^/]+$", o))])
    error_message = "allowed_origins must be origins such as https://courses.example.com, without a path."
  }
}

variable "allowed_redirect_urls" {
  type        = list(string)
  description = "URL prefixes Stripe may send a buyer back to (ALLOWED_REDIRECT_URLS, comma-separated); the frontend functions refuse any other."
  default     = []

  validation {
    condition     = alltrue([for u in var.allowed_redirect_urls : startswith(u, "https://") || startswith(u, "http://localhost")])
    error_message = "allowed_redirect_urls must be https:// URL prefixes."
  }
}

variable "frontend_timeout" {
  type        = string
  description = "Bound on one frontend request's work (FRONTEND_TIMEOUT, a Go duration)."
  default     = "20s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m)$", var.frontend_timeout))
    error_message = "frontend_timeout must be a duration such as 20s."
  }
}

variable "redirect_urls" {
  type = object({
    checkout_success = optional(string, "")
    checkout_cancel  = optional(string, "")
    portal_return    = optional(string, "")
  })
  description = "Default return URLs when a request names none: after Checkout (success, cancel) and the Billing Portal (CHECKOUT_SUCCESS_URL, CHECKOUT_CANCEL_URL, PORTAL_RETURN_URL); each must be under allowed_redirect_urls."
  default     = {}

  validation {
    condition     = alltrue([for u in values(var.redirect_urls) : u == "" || startswith(u, "https://") || startswith(u, "http://localhost")])
    error_message = "redirect_urls must be https:// URLs."
  }
}

variable "secrets_generation" {
  type        = string
  description = "Any value; changing it rolls every function to a new revision, whose instances read the secrets' latest versions afresh (see README, key rotation)."
  default     = "1"
}

# --- Secrets and Stripe -------------------------------------------------------

variable "stripe_secret_key_secret_id" {
  type        = string
  description = "Secret Manager secret holding the Stripe API key, shared by every function that reads it."
  default     = "stripe-secret-key"
}

variable "create_stripe_secret_key_secret" {
  type        = bool
  description = "Create the API key secret here. Off by default: the bootstrap creates it and adds the key out of band, so the key is never in Terraform state."
  default     = false
}

variable "stripe_secret_key" {
  type        = string
  description = "Stripe API key to store as a new version when create_stripe_secret_key_secret is true. Leave null to add it out of band; when set, the value is in Terraform state."
  default     = null
  sensitive   = true
}

variable "manage_webhook_endpoints" {
  type        = bool
  description = "Create the Stripe webhook endpoints here and store each signing secret as a new version of its function's secret. Off: an operator creates the endpoints by hand and adds the secrets."
  default     = true
}

# --- Firestore ----------------------------------------------------------------

variable "firestore_database" {
  type        = string
  description = "Firestore database id the functions use."
  default     = "(default)"
}

variable "create_firestore_database" {
  type        = bool
  description = "Create the Firestore database (native mode). Off when it exists already."
  default     = false
}

variable "firestore_location" {
  type        = string
  description = "Location of the Firestore database when it is created here."
  default     = "eur3"
}

variable "manage_firestore_rules" {
  type        = bool
  description = "Release ../firestore.rules as the database's security rules."
  default     = true
}

variable "firestore_indexes" {
  type = list(object({
    collection = string
    fields = list(object({
      field_path = string
      order      = string
    }))
  }))
  description = "Composite indexes. The functions read documents by id and query one field at a time, which needs none; the default serves a user's invoice history, newest first."
  default = [{
    collection = "invoices"
    fields = [
      { field_path = "uid", order = "ASCENDING" },
      { field_path = "periodEnd", order = "DESCENDING" },
    ]
  }]
}

# --- Monitoring ---------------------------------------------------------------

variable "notification_channels" {
  type        = list(string)
  description = "Monitoring notification channel ids the alert policies notify."
  default     = []
}

variable "webhook_5xx_threshold" {
  type        = number
  description = "Webhook 5xx answers within 5 minutes above which an alert opens."
  default     = 5
}

variable "signature_failure_threshold" {
  type        = number
  description = "Webhook signature failures within 5 minutes above which an alert opens."
  default     = 10
}
