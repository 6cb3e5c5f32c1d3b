namespace Pigato.Protocol;

/// <summary>The PIGATO message types, sent as one decimal digit in the second frame.</summary>
internal enum MessageType : byte
{
    /// <summary>Worker registration (<c>1</c>).</summary>
    Ready = 1,

    /// <summary>A request (<c>2</c>).</summary>
    Request = 2,

    /// <summary>A final reply (<c>3</c>).</summary>
    Reply = 3,

    /// <summary>A heartbeat, or a request heartbeat when it carries a request id (<c>4</c>).</summary>
    Heartbeat = 4,

    /// <summary>A disconnect (<c>5</c>).</summary>
    Disconnect = 5,

    /// <summary>A partial reply (<c>6</c>).</summary>
    ReplyPartial = 6,

    /// <summary>A worker's rejection of a request (<c>7</c>).</summary>
    ReplyReject = 7,
}
