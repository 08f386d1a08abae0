# State lives in a GCS bucket made once by hand (see README, "Deploy").
# Partial configuration: pass the bucket at init,
#   terraform init -backend-config=bucket=STATE_BUCKET
terraform {
  backend "gcs" {
    prefix = "billing"
  }
}
