namespace Emulator.Storage;

/// <summary>
/// A disk image or host folder that cannot be used as given, or a folder commit that was refused:
/// the message is one line naming the file or folder and the rule, for the CLI to print as it is
/// (bad input, exit status 2). Nothing of the user's was changed when this is thrown.
/// </summary>
public sealed class StorageException(string message, Exception? inner = null) : Exception(message, inner);
