using System.Runtime.InteropServices;

namespace Pigato.Internal.Links.Curve;

/// <summary>
/// The few libsodium functions CURVE needs (libzmq's own choice: X25519 and XSalsa20-Poly1305 boxes), from the native
/// library the <c>libsodium</c> package ships for every runtime. Boxes here are libsodium's "easy" form: the 16-byte MAC
/// followed by the ciphertext, which is what CurveZMQ puts on the wire. Input and output may overlap.
/// </summary>
internal static unsafe partial class Sodium
{
    public const int KeyBytes = 32;
    public const int NonceBytes = 24;
    public const int MacBytes = 16;

    /// <summary>The zero bytes before a message in NaCl's padded form (<see cref="SealPadded"/>).</summary>
    public const int ZeroBytes = 32;

    /// <summary>The zero bytes before the MAC in a padded box.</summary>
    public const int BoxZeroBytes = ZeroBytes - MacBytes;

    private const string Library = "libsodium";

    /// <summary>Initialises libsodium once per process (thread-safe; its random source and CPU feature checks).</summary>
    private static readonly bool Initialized = sodium_init() >= 0;

    /// <summary>A new X25519 key pair into <paramref name="publicKey"/> and <paramref name="secretKey"/> (32 bytes each).</summary>
    public static void KeyPair(Span<byte> publicKey, Span<byte> secretKey)
    {
        EnsureInitialized();
        fixed (byte* pk = publicKey, sk = secretKey)
        {
            Check(crypto_box_keypair(pk, sk));
        }
    }

    /// <summary>
    /// The key two parties share (X25519 then HSalsa20), to seal and open many boxes without the curve arithmetic; false
    /// for a public key that gives none (a low-order point, such as all zeros: libsodium refuses it, and so must we, since
    /// a peer sends it).
    /// </summary>
    public static bool SharedKey(Span<byte> key, ReadOnlySpan<byte> theirPublicKey, ReadOnlySpan<byte> ourSecretKey)
    {
        EnsureInitialized();
        fixed (byte* k = key, pk = theirPublicKey, sk = ourSecretKey)
        {
            return crypto_box_beforenm(k, pk, sk) == 0;
        }
    }

    /// <summary>Seals <paramref name="message"/> into <paramref name="box"/> (<see cref="MacBytes"/> longer) with a shared key.</summary>
    public static void Seal(Span<byte> box, ReadOnlySpan<byte> message, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        fixed (byte* c = box, m = message, n = nonce, k = key)
        {
            Check(crypto_box_easy_afternm(c, m, (ulong)message.Length, n, k));
        }
    }

    /// <summary>Opens <paramref name="box"/> into <paramref name="message"/> (<see cref="MacBytes"/> shorter); false when it was forged or damaged.</summary>
    public static bool Open(Span<byte> message, ReadOnlySpan<byte> box, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        if (box.Length < MacBytes)
        {
            return false;
        }

        fixed (byte* m = message, c = box, n = nonce, k = key)
        {
            return crypto_box_open_easy_afternm(m, c, (ulong)box.Length, n, k) == 0;
        }
    }

    /// <summary>
    /// Seals in place in NaCl's padded form, as libzmq does for every MESSAGE: <paramref name="buffer"/> holds
    /// <see cref="ZeroBytes"/> zero bytes then the message, and becomes <see cref="BoxZeroBytes"/> zero bytes, the MAC and
    /// the ciphertext. One pass of the stream cipher and one of the MAC: about half the time of the "easy" form on 1 KiB.
    /// </summary>
    public static void SealPadded(Span<byte> buffer, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        fixed (byte* b = buffer, n = nonce, k = key)
        {
            Check(crypto_box_afternm(b, b, (ulong)buffer.Length, n, k));
        }
    }

    /// <summary>
    /// Opens in place what <see cref="SealPadded"/> made (its first <see cref="BoxZeroBytes"/> bytes are not read): the
    /// buffer becomes <see cref="ZeroBytes"/> zero bytes then the message; false, the buffer unchanged, when it was forged or damaged.
    /// </summary>
    public static bool OpenPadded(Span<byte> buffer, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        if (buffer.Length < ZeroBytes)
        {
            return false;
        }

        fixed (byte* b = buffer, n = nonce, k = key)
        {
            return crypto_box_open_afternm(b, b, (ulong)buffer.Length, n, k) == 0;
        }
    }

    /// <summary>Seals with a symmetric key (the server's cookie, which only it can open).</summary>
    public static void SecretSeal(Span<byte> box, ReadOnlySpan<byte> message, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        EnsureInitialized();
        fixed (byte* c = box, m = message, n = nonce, k = key)
        {
            Check(crypto_secretbox_easy(c, m, (ulong)message.Length, n, k));
        }
    }

    /// <summary>Opens a box sealed with <see cref="SecretSeal"/>; false when it was forged or damaged.</summary>
    public static bool SecretOpen(Span<byte> message, ReadOnlySpan<byte> box, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        if (box.Length < MacBytes)
        {
            return false;
        }

        fixed (byte* m = message, c = box, n = nonce, k = key)
        {
            return crypto_secretbox_open_easy(m, c, (ulong)box.Length, n, k) == 0;
        }
    }

    private static void EnsureInitialized()
    {
        if (!Initialized)
        {
            throw new InvalidOperationException("libsodium could not be initialised.");
        }
    }

    private static void Check(int result)
    {
        if (result != 0)
        {
            throw new InvalidOperationException("A libsodium call failed.");
        }
    }

    [LibraryImport(Library)]
    private static partial int sodium_init();

    [LibraryImport(Library)]
    private static partial int crypto_box_keypair(byte* pk, byte* sk);

    [LibraryImport(Library)]
    private static partial int crypto_box_beforenm(byte* k, byte* pk, byte* sk);

    [LibraryImport(Library)]
    private static partial int crypto_box_easy_afternm(byte* c, byte* m, ulong mlen, byte* n, byte* k);

    [LibraryImport(Library)]
    private static partial int crypto_box_open_easy_afternm(byte* m, byte* c, ulong clen, byte* n, byte* k);

    [LibraryImport(Library)]
    private static partial int crypto_box_afternm(byte* c, byte* m, ulong mlen, byte* n, byte* k);

    [LibraryImport(Library)]
    private static partial int crypto_box_open_afternm(byte* m, byte* c, ulong clen, byte* n, byte* k);

    [LibraryImport(Library)]
    private static partial int crypto_secretbox_easy(byte* c, byte* m, ulong mlen, byte* n, byte* k);

    [LibraryImport(Library)]
    private static partial int crypto_secretbox_open_easy(byte* m, byte* c, ulong clen, byte* n, byte* k);
}
