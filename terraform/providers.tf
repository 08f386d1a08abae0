provider "google" {
  project = var.project_id
  region  = var.region
}

# Reads STRIPE_API_KEY from the environment, so the key is neither in the
# configuration nor in the state.
provider "stripe" {}
