using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using OrderStream.Dashboard.Components;
using OrderStream.Dashboard.Hosting;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddDashboard();

var app = builder.Build();
app.UseExceptionHandler("/error", createScopeForErrors: true);
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

// Probes answer without sign-in; ready means started (the dashboard is useful, if limited, with the gateway down).
app.MapHealthChecks("/healthz").AllowAnonymous();
app.MapHealthChecks("/readyz", new HealthCheckOptions()).AllowAnonymous();
app.MapStaticAssets().AllowAnonymous();
app.MapSignInEndpoints();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode().RequireAuthorization();
app.Run();
