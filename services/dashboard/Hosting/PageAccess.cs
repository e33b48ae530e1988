using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using OrderStream.Hosting.Identity;

namespace OrderStream.Dashboard.Hosting;

/// <summary>
/// Which roles a page needs, read from its own <c>[Authorize(Roles = ...)]</c>: the one declaration both
/// the request (the endpoint's metadata, then <c>/forbidden</c>) and the circuit's router (a page opened by
/// a link) go by, so "needs role X" always names what the page actually requires.
/// </summary>
public static class PageAccess
{
    /// <summary>Any one of these may open the page (the roles of every <c>[Authorize]</c>, in order, without repeats).</summary>
    public static IReadOnlyList<string> RolesOf(IEnumerable<IAuthorizeData> requirements) =>
        [.. requirements.SelectMany(r => (r.Roles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct()];

    public static IReadOnlyList<string> RolesOf(Type page) => RolesOf(page.GetCustomAttributes<AuthorizeAttribute>(inherit: true));
}

/// <summary>The roles of each page, for its <c>[Authorize(Roles = ...)]</c> and the menu (docs/security.md's table).</summary>
public static class PageRoles
{
    /// <summary>A customer sees and places their own orders; a seller (who ships them) and an admin look up anyone's.</summary>
    public const string Orders = Roles.Customer + "," + Roles.Seller + "," + Roles.Admin;

    /// <summary>Stock is the seller's to change; an admin reads it (the page offers the changes to sellers only).</summary>
    public const string Inventory = Roles.Seller + "," + Roles.Admin;

    /// <summary>Operations, dead letters and the load test: operator controls.</summary>
    public const string Operations = Roles.Admin;
}
