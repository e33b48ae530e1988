using MudBlazor;

namespace OrderStream.Dashboard.Components.Layout;

public static class DashboardTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#3949ab",
            Secondary = "#00897b",
            AppbarBackground = "#1f2a44",
            Background = "#f4f6fa",
            Success = "#2e7d32",
            Error = "#c62828",
            Warning = "#ef6c00",
            Info = "#0277bd",
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "8px" },
    };
}
