variable "project_id" {
  type        = string
  description = "Project the function, its service account and its grants live in."
}

variable "region" {
  type        = string
  description = "Region of the function."
}

variable "name" {
  type        = string
  description = "Function name; also the service account id, so at most 30 characters."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.name))
    error_message = "name must be 6-30 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "description" {
  type        = string
  description = "Human-readable description of the function."
  default     = ""
}

variable "entry_point" {
  type        = string
  description = "Name the function registers with the Functions Framework."
}

variable "runtime" {
  type        = string
  description = "Cloud Run functions runtime, such as go126."
}

variable "source_bucket" {
  type        = string
  description = "Bucket holding the source archive."
}

variable "source_object" {
  type        = string
  description = "Object name of the source archive; a new name redeploys the function."
}

variable "build_service_account" {
  type        = string
  description = "Service account id (projects/P/serviceAccounts/EMAIL) that builds the function; null uses the project's default."
  default     = null
}

variable "environment" {
  type        = map(string)
  description = "Plain environment variables (never secret values)."
  default     = {}
}

variable "secrets" {
  type = map(object({
    env       = string
    secret_id = string
  }))
  description = "Secrets the function reads, by logical key: the variable that gets the secret's latest version name, and the secret's id. The service account may access exactly these."
  default     = {}
}

variable "public" {
  type        = bool
  description = "Whether anyone may invoke the function (allUsers); the function then checks the caller itself."
  default     = false
}

variable "memory_mb" {
  type        = number
  description = "Memory per instance, in MiB."
  default     = 256
}

variable "timeout_seconds" {
  type        = number
  description = "Request timeout in seconds."
  default     = 60
}

variable "max_instances" {
  type        = number
  description = "Upper bound on instances."
  default     = 10
}

variable "min_instances" {
  type        = number
  description = "Instances kept warm."
  default     = 0
}

variable "project_roles" {
  type        = list(string)
  description = "Project roles for the service account (Firestore access)."
  default     = ["roles/datastore.user"]
}

variable "labels" {
  type        = map(string)
  description = "Labels on the function."
  default     = {}
}
