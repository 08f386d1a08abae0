terraform {
  required_version = ">= 1.8"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.14, < 9.0"
    }
    # The real provider needs STRIPE_API_KEY in the environment when it
    # manages endpoints (manage_webhook_endpoints = true).
    stripe = {
      source  = "stripe/stripe"
      version = "~> 0.2"
    }
  }
}
