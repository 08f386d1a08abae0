# Variable validation rejects settings the platform would refuse or that
# would break the functions.

mock_provider "google" {}
mock_provider "stripe" {}

variables {
  project_id     = "billing-test-project"
  source_archive = "tests/fixtures/source.zip"
}

run "memory_above_256_mib_is_refused" {
  command = plan

  variables {
    memory_mb = 512
  }

  expect_failures = [var.memory_mb]
}

run "memory_below_128_mib_is_refused" {
  command = plan

  variables {
    memory_mb = 64
  }

  expect_failures = [var.memory_mb]
}

run "override_memory_out_of_range_is_refused" {
  command = plan

  variables {
    function_overrides = { invoices = { memory_mb = 1024 } }
  }

  expect_failures = [var.function_overrides]
}

run "a_long_prefix_is_refused" {
  command = plan

  variables {
    name_prefix = "course-billing"
  }

  expect_failures = [var.name_prefix]
}

run "a_missing_archive_is_refused" {
  command = plan

  variables {
    source_archive = "tests/fixtures/no-such.zip"
  }

  expect_failures = [var.source_archive]
}
