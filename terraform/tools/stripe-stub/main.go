// Command terraform-provider-stripe is a schema-only stand-in for the
// stripe/stripe Terraform provider, which no registry reachable from CI
// serves. It exists so that `terraform validate` and `terraform test` with
// `mock_provider "stripe"` can check the billing configuration offline.
//
// Its schema is kept to the attributes the real provider documents for
// stripe_webhook_endpoint; it talks to no API and refuses every change, so
// it can never stand in for the real provider in an apply.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// version is set at build time; the plugin folder's name is what
// Terraform reads.
var version = "dev"

func main() {
	err := providerserver.Serve(context.Background(), func() provider.Provider { return stub{} }, providerserver.ServeOpts{
		Address: "registry.terraform.io/stripe/stripe",
	})
	if err != nil {
		log.Fatal(err)
	}
}

type stub struct{}

func (stub) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "stripe"
	resp.Version = version
}

func (stub) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{
		Attributes: map[string]pschema.Attribute{
			"api_key": pschema.StringAttribute{Optional: true, Sensitive: true},
		},
	}
}

func (stub) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {}

func (stub) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return webhookEndpoint{} }}
}

func (stub) DataSources(context.Context) []func() datasource.DataSource { return nil }

// webhookEndpoint is stripe_webhook_endpoint, schema only.
type webhookEndpoint struct{}

func (webhookEndpoint) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook_endpoint"
}

func (webhookEndpoint) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = rschema.Schema{
		Attributes: map[string]rschema.Attribute{
			"id":             rschema.StringAttribute{Computed: true},
			"url":            rschema.StringAttribute{Required: true},
			"enabled_events": rschema.ListAttribute{Required: true, ElementType: types.StringType},
			"api_version":    rschema.StringAttribute{Optional: true},
			"description":    rschema.StringAttribute{Optional: true},
			"metadata":       rschema.MapAttribute{Optional: true, ElementType: types.StringType},
			// Returned by Stripe only when the endpoint is created.
			"secret": rschema.StringAttribute{Computed: true, Sensitive: true},
		},
	}
}

const refusal = "this is a schema-only stand-in for the stripe/stripe provider; install the real provider to apply"

func (webhookEndpoint) Create(_ context.Context, _ resource.CreateRequest, resp *resource.CreateResponse) {
	resp.Diagnostics.AddError("stripe stub", refusal)
}

func (webhookEndpoint) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (webhookEndpoint) Update(_ context.Context, _ resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("stripe stub", refusal)
}

func (webhookEndpoint) Delete(_ context.Context, _ resource.DeleteRequest, resp *resource.DeleteResponse) {
	resp.Diagnostics.AddError("stripe stub", refusal)
}
