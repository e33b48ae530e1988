using System.Net.Http.Json;

namespace OrderStream.UiTests;

/// <summary>Operator calls the tests make behind the UI's back: setup and clean-up, never what a test is about.</summary>
internal static class Admin
{
    public static async Task PauseAsync(DashboardStack stack, string service) =>
        (await stack.Admin.PostAsync($"/admin/{service}/consumer/pause", null)).EnsureSuccessStatusCode();

    public static async Task ResumeAsync(DashboardStack stack, string service) =>
        (await stack.Admin.PostAsync($"/admin/{service}/consumer/resume", null)).EnsureSuccessStatusCode();

    public static async Task InjectFailuresAsync(DashboardStack stack, string service, double rate, string mode, string? topic) =>
        (await stack.Admin.PutAsJsonAsync($"/admin/{service}/consumer/failures", new { rate, mode, topic })).EnsureSuccessStatusCode();

    public static async Task<double> FailureRateAsync(DashboardStack stack, string service)
    {
        var state = await stack.Admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/admin/{service}/consumer");
        return state.GetProperty("failures").GetProperty("rate").GetDouble();
    }
}
