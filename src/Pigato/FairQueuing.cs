namespace Pigato;

/// <summary>How the broker shares a service among the clients whose requests wait for it (<see cref="BrokerOptions.FairQueuing"/>).</summary>
public enum FairQueuing
{
    /// <summary>
    /// Round robin across the clients (their connections) with requests waiting, first in first out within each: one
    /// client's flood of requests does not make the others wait behind it. The default.
    /// </summary>
    PerClient,

    /// <summary>Round robin across the principals the clients authenticated as (anonymous ones share one turn), FIFO within each.</summary>
    PerPrincipal,

    /// <summary>One queue per service, first in first out whoever sent them (PIGATO's order).</summary>
    None,
}
