using System.Security;
using System.Text;

namespace Emulator.Hosting.Gdb;

/// <summary>
/// A firmware module as gdb sees it: a shared library (qXfer:libraries:read) named after the
/// module, at the address its image was loaded or runs in place, so <c>info sharedlibrary</c>
/// lists every PEIM and driver started so far, in RELEASE builds too.
/// </summary>
internal readonly record struct GdbLibrary(string Name, ulong ImageStart)
{
    /// <summary>gdb's library-list document (gdb's "Library List Format").</summary>
    public static string ListXml(IEnumerable<GdbLibrary> libraries)
    {
        var xml = new StringBuilder("<library-list>\n");
        foreach (var library in libraries)
        {
            xml.Append("  <library name=\"").Append(SecurityElement.Escape(library.Name)).Append("\"><segment address=\"0x")
                .Append(library.ImageStart.ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append("\"/></library>\n");
        }

        return xml.Append("</library-list>\n").ToString();
    }
}
