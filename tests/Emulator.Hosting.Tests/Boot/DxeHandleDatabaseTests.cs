using System.Buffers.Binary;
using System.Text;
using Emulator.Firmware;
using Emulator.Hosting.Boot;

namespace Emulator.Hosting.Tests.Boot;

/// <summary>
/// The handle-database walk on memory laid out as edk2's DXE core lays it out (Handle.h: IHANDLE
/// 'hndl', PROTOCOL_INTERFACE 'pifc', PROTOCOL_ENTRY 'prte'), for X64 and IA32 pointer sizes, and
/// on hostile memory — a list that loops without returning to its head, wrong signatures, a back
/// pointer to another handle, pointers outside memory — where the answer is "not found", never an
/// exception or an endless walk. And the loaded-image description built on it.
/// </summary>
[Trait("Category", "Unit")]
public class DxeHandleDatabaseTests
{
    private const ulong Handle = 0x1000;
    private static readonly Guid Wanted = LoadedImageProbe.LoadedImageProtocol;
    private static readonly Guid Other = Guid.Parse("09576e91-6d3f-11d2-8e39-00a0c969723b");

    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    public void FindsTheInterfaceOfAProtocolOnTheHandle(int n)
    {
        var memory = Database(n, (Other, 0xAAAA), (Wanted, 0xBBBB));
        var read = DevicePathTextTests.Reader(memory);

        Assert.True(DxeHandleDatabase.IsHandle(read, n, Handle));
        Assert.Equal(0xBBBBUL, DxeHandleDatabase.FindInterface(read, n, Handle, Wanted));
        Assert.Equal(0xAAAAUL, DxeHandleDatabase.FindInterface(read, n, Handle, Other));
        Assert.Null(DxeHandleDatabase.FindInterface(read, n, Handle, Guid.NewGuid()));
        Assert.Null(DxeHandleDatabase.FindInterface(read, n, 0x2000, Wanted));   // a PROTOCOL_INTERFACE is not a handle
    }

    [Fact]
    public void AListThatLoopsWithoutReachingItsHeadEndsAsNotFound()
    {
        var memory = Database(8, (Other, 0xAAAA), (Other, 0xCCCC));
        // The second interface's Link.Flink points back at the first one's Link: a cycle without the head.
        Put(memory, 0x2100 + 8, 8, 0x2000 + 8);
        Assert.Null(DxeHandleDatabase.FindInterface(DevicePathTextTests.Reader(memory), 8, Handle, Wanted));

        // A link to itself.
        Put(memory, 0x2000 + 8, 8, 0x2000 + 8);
        Put(memory, Handle + 24, 8, 0x2000 + 8);
        Assert.Null(DxeHandleDatabase.FindInterface(DevicePathTextTests.Reader(memory), 8, Handle, Wanted));
    }

    [Fact]
    public void WrongSignaturesBackPointersAndWildPointersAreNotFound()
    {
        ulong? Find(Action<byte[]> damage)
        {
            var memory = Database(8, (Wanted, 0xBBBB));
            damage(memory);
            return DxeHandleDatabase.FindInterface(DevicePathTextTests.Reader(memory), 8, Handle, Wanted);
        }

        Assert.Equal(0xBBBBUL, Find(_ => { }));
        Assert.Null(Find(m => m[Handle] = (byte)'H'));                       // not 'hndl'
        Assert.Null(Find(m => m[0x2000] = (byte)'x'));                       // not 'pifc'
        Assert.Null(Find(m => m[0x3000] = (byte)'x'));                       // not 'prte'
        Assert.Null(Find(m => Put(m, 0x2000 + 24, 8, 0x5000)));              // Handle back pointer elsewhere
        Assert.Null(Find(m => Put(m, Handle + 24, 8, 0xFFFF_FFFF_FFFF_FFF0))); // Protocols.Flink outside memory
        Assert.Null(Find(m => Put(m, 0x2000 + 48, 8, 0x7FFF_0000)));          // PROTOCOL_ENTRY pointer outside memory
        Assert.False(DxeHandleDatabase.IsHandle((_, _) => false, 8, Handle));
    }

    [Fact]
    public void ALoadedImageIsDescribedOnlyAtItsPeEntryPoint()
    {
        const ulong loaded = 0x4000, imageBase = 0x8000, systemTable = 0x6000, filePath = 0x7000;
        var memory = Database(8, (Wanted, loaded));
        Put(memory, systemTable, 8, LoadedImageProbe.SystemTableSignature);
        Put(memory, loaded + 16, 8, systemTable);                             // SystemTable
        Put(memory, loaded + 32, 8, filePath);                                // FilePath
        Put(memory, loaded + 64, 8, imageBase);                               // ImageBase
        byte[] name = Encoding.Unicode.GetBytes(@"\EFI\BOOT\BOOTX64.EFI" + "\0");
        memory[filePath] = 4;
        memory[filePath + 1] = 4;
        Put(memory, filePath + 2, 2, (ulong)(name.Length + 4));
        name.CopyTo(memory, (int)filePath + 4);
        memory[filePath + 4 + (ulong)name.Length] = 0x7F;
        memory[filePath + 5 + (ulong)name.Length] = 0xFF;
        memory[filePath + 6 + (ulong)name.Length] = 4;
        WritePe(memory, imageBase, entryRva: 0x1234, sizeOfImage: 0x5000, subsystem: 10);
        var read = DevicePathTextTests.Reader(memory);

        var image = LoadedImageProbe.Describe(read, 8, Handle, systemTable, imageBase + 0x1234);

        Assert.NotNull(image);
        Assert.Equal(@"\EFI\BOOT\BOOTX64.EFI", image.DevicePath);
        Assert.Equal(0UL, image.ParentHandle);
        Assert.Equal(PeMachine.Amd64, image.Machine);
        Assert.Equal((ushort)10, image.Subsystem);
        Assert.Equal(0x5000U, image.SizeOfImage);
        Assert.False(image.FromFirmwareVolume);
        Assert.Null(LoadedImageProbe.Describe(read, 8, Handle, systemTable, imageBase + 0x1235));    // not the entry point
        Assert.Null(LoadedImageProbe.Describe(read, 8, Handle, systemTable + 8, imageBase + 0x1234)); // another system table

        // With a device handle (DeviceHandle @3N) carrying a device path, the image's path is the device's followed by FilePath.
        const ulong device = 0xA000, devicePath = 0xA800;
        AddHandle(memory, 8, device, 0xB000, (LoadedImageProbe.DevicePathProtocol, devicePath));
        Put(memory, loaded + 24, 8, device);
        byte[] pci = [1, 1, 6, 0, 2, 0x1F, 0x7F, 0xFF, 4, 0];                // Pci(0x1F,0x2), end
        pci.CopyTo(memory, (int)devicePath);
        Assert.Equal(@"Pci(0x1F,0x2)/\EFI\BOOT\BOOTX64.EFI", LoadedImageProbe.Describe(read, 8, Handle, systemTable, imageBase + 0x1234)?.DevicePath);

        // A device path without an end node is no path: the file path alone stays.
        memory[devicePath + 6] = 1;
        memory[devicePath + 7] = 1;
        Assert.Equal(@"\EFI\BOOT\BOOTX64.EFI", LoadedImageProbe.Describe(read, 8, Handle, systemTable, imageBase + 0x1234)?.DevicePath);
    }

    /// <summary>
    /// 64 KiB of memory with an IHANDLE at 0x1000 whose protocol list holds the given interfaces:
    /// PROTOCOL_INTERFACE i at 0x2000 + 0x100 i, its PROTOCOL_ENTRY at 0x3000 + 0x100 i.
    /// </summary>
    private static byte[] Database(int n, params (Guid Protocol, ulong Interface)[] protocols)
    {
        var m = new byte[0x10000];
        AddHandle(m, n, Handle, 0x2000, protocols);
        return m;
    }

    /// <summary>An IHANDLE at <paramref name="handle"/> whose interfaces sit from <paramref name="area"/> on (their entries 0x1000 above).</summary>
    private static void AddHandle(byte[] m, int n, ulong handle, ulong area, params (Guid Protocol, ulong Interface)[] protocols)
    {
        ulong u = (ulong)n;
        Put(m, handle, n, 0x6C646E68);                                       // 'hndl'
        ulong head = handle + (3 * u);
        ulong previous = head;
        for (int i = 0; i < protocols.Length; i++)
        {
            ulong entry = area + ((ulong)i * 0x100), protocolEntry = area + 0x1000 + ((ulong)i * 0x100);
            Put(m, entry, n, 0x63666970);                                    // 'pifc'
            Put(m, previous, n, entry + u);                                   // previous Flink -> this Link
            Put(m, entry + (3 * u), n, handle);
            Put(m, entry + (6 * u), n, protocolEntry);
            Put(m, entry + (7 * u), n, protocols[i].Interface);
            Put(m, protocolEntry, n, 0x65747270);                            // 'prte'
            protocols[i].Protocol.ToByteArray().CopyTo(m, (int)(protocolEntry + (3 * u)));
            previous = entry + u;
        }

        Put(m, previous, n, head);
    }

    private static void WritePe(byte[] m, ulong at, uint entryRva, uint sizeOfImage, ushort subsystem)
    {
        int b = (int)at;
        m[b] = (byte)'M';
        m[b + 1] = (byte)'Z';
        BinaryPrimitives.WriteInt32LittleEndian(m.AsSpan(b + 0x3C), 0x40);
        "PE\0\0"u8.CopyTo(m.AsSpan(b + 0x40));
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(b + 0x44), 0x8664);    // Machine
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(b + 0x54), 0xF0);      // SizeOfOptionalHeader
        int optional = b + 0x58;
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(optional), 0x20B);     // PE32+
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(optional + 16), entryRva);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(optional + 56), sizeOfImage);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(optional + 68), subsystem);
    }

    private static void Put(byte[] m, ulong at, int size, ulong value)
    {
        if (size == 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan((int)at), value);
        }
        else if (size == 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan((int)at), (uint)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan((int)at), (ushort)value);
        }
    }
}
