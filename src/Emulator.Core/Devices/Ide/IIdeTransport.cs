namespace Emulator.Core.Devices.Ide;

/// <summary>
/// What an <see cref="IdeDevice"/> needs from whatever carries its commands and data, QEMU's
/// IDEBus interrupt plus its IDEDMAOps (hw/ide/internal.h): on the PIIX3 an <see cref="IdeChannel"/>
/// with its bus master (data through the data port), on the ICH9 an AHCI port (data through the
/// command's PRDT, completion as a received FIS).
/// </summary>
internal interface IIdeTransport
{
    string Name { get; }

    /// <summary>QEMU ide_bus_set_irq.</summary>
    void RaiseInterrupt();

    /// <summary>QEMU start_dma: the device has a DMA command pending; the transport runs it now or later through <see cref="IdeDevice.ContinueDma"/>.</summary>
    void StartDma(IdeDevice device);

    /// <summary>QEMU prepare_buf: up to <paramref name="limit"/> bytes of guest memory regions into <paramref name="scatter"/>; returns the bytes added, <paramref name="described"/> all the descriptors described.</summary>
    int PrepareBuffer(int limit, List<(ulong Address, int Length)> scatter, out int described);

    /// <summary>QEMU commit_buf (dma_buf_commit): <paramref name="bytes"/> of the prepared regions were transferred.</summary>
    void CommitBuffer(int bytes);

    /// <summary>QEMU rw_buf: the buffer from <paramref name="index"/> to <paramref name="size"/> through the descriptors; false when they cannot be used.</summary>
    bool CopyBuffer(byte[] buffer, ref int index, int size, bool toMemory);

    void ReadMemory(ulong address, Span<byte> destination);

    void WriteMemory(ulong address, ReadOnlySpan<byte> source);

    /// <summary>QEMU set_inactive: the DMA transfer is over (the engine stays active when <paramref name="more"/>).</summary>
    void SetInactive(bool more);

    /// <summary>QEMU pio_transfer: true when the transport moved the PIO block at once (AHCI); false leaves it to the data port.</summary>
    bool PioTransfer(IdeDevice device);

    /// <summary>QEMU cmd_done: the command is over.</summary>
    void CommandDone();
}
