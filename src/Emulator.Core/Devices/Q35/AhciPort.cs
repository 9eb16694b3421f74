// One port of QEMU 7.2's AHCI HBA with its drive (hw/ide/ahci.c ahci_port_read/write,
// ahci_cond_start_engines, check_cmd, handle_cmd, handle_reg_h2d_fis, ahci_pio_transfer,
// ahci_start_dma, ahci_dma_prepare_buf, ahci_populate_sglist, ahci_commit_buf, ahci_dma_rw_buf,
// ahci_cmd_done, ahci_write_fis_d2h, ahci_write_fis_pio, ahci_init_d2h, ahci_reset_port).
// Emulated: the port registers (PxCLB/CLBU/FB/FBU storage, PxIS write-1-to-clear, PxIE mask
// 0xFDC000FF, PxCMD with ST/CR and FRE/FR, PxTFD and PxSIG read-only, PxSSTS 0x113 with a drive
// and 0 without, PxSCTL with COMRESET on DET 1 → 0, PxSERR write-1-to-clear, PxSACT
// write-1-to-set, PxCI write-1-to-set); the command list walk on ST and PxCI writes (slots in
// order, a slot clears when its command completes); the command table's H2D register FIS (with
// the C bit: the task file goes to the IDE device, the ATAPI packet from ACMD into its buffer,
// PRDBC zeroed; without: SRST set and released resets the port); the PRDT (entries of
// (DBC & 0x3FFFFF) + 1 bytes, 64-bit addresses) for PIO blocks and DMA, PRDBC counting the bytes
// moved; received FISes at FB (D2H register FIS at +0x40 on completion with PxIS.DHRS and, with
// ERR, PxIS.TFES; PIO setup FIS at +0x20 before each PIO block, PxIS.PSS after it except for an
// ATAPI packet or the first block written; PxTFD from status and error); after a port reset the
// signature (0x00000101 disk, 0xEB140101 ATAPI) reported with the first received FIS.
// The ATA and ATAPI commands themselves are IdeDevice's (QEMU's ide core), which calls back here
// for its PIO blocks, DMA and completion (IIdeTransport, QEMU's ahci_dma_ops). Commands complete
// within the write that issued them (QEMU finishes block I/O asynchronously: a polling guest sees
// the same end state).
// NCQ (READ/WRITE FPDMA QUEUED) is in AhciPort.Ncq.cs.
// Not emulated: port multipliers (a FIS with a PM
// port is ignored, as by QEMU), the DMA setup FIS (QEMU writes none), failed mappings of the
// command list or FIS area (guest RAM always maps here).
// Firmware relies on: OVMF's AtaAtapiPassThruDxe (AhciMode.c) resets the port, waits for
// PxSSTS.DET = 3 and PxTFD ready, reads PxSIG, issues IDENTIFY (PACKET) DEVICE by PIO and reads
// and writes with READ/WRITE DMA EXT and PACKET READ(10), polling the D2H FIS area and PxCI.
using Emulator.Core.Devices.Ide;

namespace Emulator.Core.Devices.Q35;

/// <summary>An AHCI port: its registers, the command engine and the IDE device behind it (QEMU AHCIDevice).</summary>
internal sealed partial class AhciPort : IIdeTransport
{
    public const uint SignatureDisk = 0x0000_0101;
    public const uint SignatureAtapi = 0xEB14_0101;
    public const uint SataStatusPresent = 0x113;
    public const int CommandHeaderSize = 32;
    public const int CommandTableFisSize = 0x80;
    public const int AtapiCommandOffset = 0x40;
    public const int PrdtOffset = 0x80;
    public const int PrdEntrySize = 16;
    public const int PioSetupFisOffset = 0x20;

    private const uint CmdReadOnlyMask = 0x007D_FFE0;
    private const uint CmdIccMask = 0xF000_0000;
    private const uint InterruptMaskWritable = 0xFDC0_00FF;
    private const uint SctlDetMask = 0xF;
    private const ushort OptsAtapi = 0x20;
    private const ushort OptsWrite = 0x40;
    private const uint PrdSizeMask = 0x3F_FFFF;
    private const byte FisTypeRegisterH2d = 0x27;
    private const byte FisTypeRegisterD2h = 0x34;
    private const byte FisTypePioSetup = 0x5F;
    private const byte FisUpdateCommand = 0x80;
    private const byte ControlSoftwareReset = 0x04;
    private const int IsDhrs = 0;
    private const int IsPss = 1;
    private const int IsHbfs = 29;
    private const int IsTfes = 30;

    private readonly AhciHba _hba;
    private readonly IdeDevice? _device;

    public AhciPort(AhciHba hba, int number, IdeDrive? drive)
    {
        _hba = hba;
        Number = number;

        // ide_init1 numbers both positions of every port's bus in creation order: QM00001 for port 0, QM00003 for port 1, …
        _device = drive == null ? null : new IdeDevice(this, 0, (2 * number) + 1, drive);
        Regs = NewRegisters();
    }

    public int Number { get; }

    public string Name => $"ahci port {Number}";

    public IdeDevice? Device => _device;

    public AhciPortState Regs { get; private set; }

    public static AhciPortState NewRegisters() => new() { Command = AhciHba.CmdSpinUp | AhciHba.CmdPowerOn, TaskFile = 0x7F, Signature = 0xFFFF_FFFF, BusySlot = -1 };

    public AhciPortState Save() => Regs with { Device = _device?.SaveState() };

    public void Restore(AhciPortState state)
    {
        if ((state.Device == null) != (_device == null))
        {
            throw new ArgumentException($"{Name} {(_device == null ? "has no drive" : "has a drive")}, the record {(state.Device == null ? "none" : "one")}");
        }

        Regs = state with { Device = null };
        if (state.Device != null)
        {
            _device!.RestoreState(state.Device);
        }
    }

    public uint ReadRegister(int register) => register switch
    {
        0 => Regs.CommandListBase,
        1 => Regs.CommandListBaseHigh,
        2 => Regs.FisBase,
        3 => Regs.FisBaseHigh,
        4 => Regs.InterruptStatus,
        5 => Regs.InterruptEnable,
        6 => Regs.Command,
        8 => Regs.TaskFile,
        9 => Regs.Signature,
        10 => _device != null ? SataStatusPresent : 0,
        11 => Regs.SataControl,
        12 => Regs.SataError,
        13 => Regs.SataActive,
        14 => Regs.CommandIssue,
        _ => 0,
    };

    public void WriteRegister(int register, uint value)
    {
        var p = Regs;
        switch (register)
        {
            case 0: p.CommandListBase = value; break;
            case 1: p.CommandListBaseHigh = value; break;
            case 2: p.FisBase = value; break;
            case 3: p.FisBaseHigh = value; break;
            case 4: p.InterruptStatus &= ~value; _hba.CheckInterrupt(); break;
            case 5: p.InterruptEnable = value & InterruptMaskWritable; _hba.CheckInterrupt(); break;
            case 6:
                p.Command = (p.Command & CmdReadOnlyMask) | (value & ~(CmdReadOnlyMask | CmdIccMask));
                p.Command = (p.Command & AhciHba.CmdStart) != 0 ? p.Command | AhciHba.CmdListRunning : p.Command & ~AhciHba.CmdListRunning;
                p.Command = (p.Command & AhciHba.CmdFisReceive) != 0 ? p.Command | AhciHba.CmdFisRunning : p.Command & ~AhciHba.CmdFisRunning;
                if ((p.Command & AhciHba.CmdFisRunning) != 0 && !p.InitialFisSent)
                {
                    InitD2h();
                }

                CheckCommands();
                break;
            case 11:
                if ((p.SataControl & SctlDetMask) == 1 && (value & SctlDetMask) == 0)
                {
                    ResetPort();
                }

                p.SataControl = value;
                break;
            case 12: p.SataError &= ~value; break;
            case 13: p.SataActive |= value; break;
            case 14: p.CommandIssue |= value; CheckCommands(); break;
        }
    }

    /// <summary>GHC.HR for this port (ahci_reset's loop): interrupt bits, SCTL and PxCMD back, then the port reset.</summary>
    public void HbaReset()
    {
        Regs.InterruptStatus = 0;
        Regs.InterruptEnable = 0;
        Regs.SataControl = 0;
        Regs.Command = AhciHba.CmdSpinUp | AhciHba.CmdPowerOn;
        ResetPort();
    }

    /// <summary>Machine reset: the registers as at power-on, then GHC.HR's port reset (QEMU pci_ich9_reset → ahci_reset).</summary>
    public void PowerOnReset()
    {
        Regs = NewRegisters();
        HbaReset();
    }

    /// <summary>ahci_reset_port: the IDE bus reset, SATA registers and task file back; with a drive the signature and status, and the initial D2H FIS again if FIS receive runs.</summary>
    private void ResetPort()
    {
        var p = Regs;
        _device?.BusReset();
        if (_device != null)
        {
            _device.NcqQueues = 32;
        }

        p.SataError = 0;
        p.SataActive = 0;
        p.TaskFile = 0x7F;
        p.Signature = 0xFFFF_FFFF;
        p.BusySlot = -1;
        p.InitialFisSent = false;
        if (_device == null)
        {
            return;
        }

        p.Resetting = false;
        if (_device.Kind == IdeDriveKind.CdRom)
        {
            _device.SetPortResetState(SignatureAtapi, IdeDevice.StatusSeekComplete | 0x20 | IdeDevice.StatusReady);
        }
        else
        {
            _device.SetPortResetState(SignatureDisk, IdeDevice.StatusSeekComplete | 0x20);
        }

        InitD2h();
    }

    /// <summary>ahci_init_d2h: the first D2H FIS once FIS receive runs; PxSIG takes the task file's signature (with no drive: the empty bus's status 0x50 and no signature).</summary>
    private void InitD2h()
    {
        if (Regs.InitialFisSent || !WriteD2hFis())
        {
            return;
        }

        Regs.InitialFisSent = true;
        Regs.Signature = _device?.TaskFileSignature ?? 0;
    }

    /// <summary>ahci_write_fis_d2h: the D2H register FIS at FB + 0x40 with the I bit, PxTFD, TFES on ERR, DHRS.</summary>
    private bool WriteD2hFis()
    {
        if ((Regs.Command & AhciHba.CmdFisRunning) == 0)
        {
            return false;
        }

        var fis = new byte[AhciHba.D2hFisLength];
        fis[0] = FisTypeRegisterD2h;
        fis[1] = 0x40;
        if (_device != null)
        {
            _device.WriteFisRegisters(fis);
        }
        else
        {
            // An empty position's task file: READY | SEEK, device 0xA0 (QEMU's IDEState without a drive).
            fis[2] = 0x50;
            fis[7] = 0xA0;
        }

        _hba.Memory.WriteBlock(FisBase + AhciHba.ReceivedD2hFisOffset, fis);
        Regs.TaskFile = (uint)(fis[3] << 8) | fis[2];
        if ((fis[2] & IdeDevice.StatusError) != 0)
        {
            Trigger(IsTfes);
        }

        Trigger(IsDhrs);
        return true;
    }

    /// <summary>ahci_write_fis_pio: the PIO setup FIS at FB + 0x20 (I bit, registers, E_Status, transfer count), PxTFD, TFES on ERR.</summary>
    private void WritePioFis(int length, bool interrupt)
    {
        if ((Regs.Command & AhciHba.CmdFisRunning) == 0)
        {
            return;
        }

        var fis = new byte[AhciHba.D2hFisLength];
        fis[0] = FisTypePioSetup;
        fis[1] = interrupt ? (byte)0x40 : (byte)0;
        _device!.WriteFisRegisters(fis);
        fis[15] = fis[2];
        fis[16] = (byte)length;
        fis[17] = (byte)(length >> 8);
        _hba.Memory.WriteBlock(FisBase + PioSetupFisOffset, fis);
        Regs.TaskFile = (uint)(fis[3] << 8) | fis[2];
        if ((fis[2] & IdeDevice.StatusError) != 0)
        {
            Trigger(IsTfes);
        }
    }

    private ulong FisBase => ((ulong)Regs.FisBaseHigh << 32) | Regs.FisBase;

    private ulong CommandListBase => ((ulong)Regs.CommandListBaseHigh << 32) | Regs.CommandListBase;

    private ulong CurrentHeader => CommandListBase + (ulong)(Regs.CurrentSlot * CommandHeaderSize);

    private void Trigger(int bit)
    {
        Regs.InterruptStatus |= 1u << bit;
        _hba.CheckInterrupt();
    }

    /// <summary>check_cmd: with ST set, every issued slot in order; a slot whose command completed clears.</summary>
    private void CheckCommands()
    {
        if ((Regs.Command & AhciHba.CmdStart) == 0)
        {
            return;
        }

        for (int slot = 0; slot < 32 && Regs.CommandIssue != 0; slot++)
        {
            if ((Regs.CommandIssue & (1u << slot)) != 0 && HandleCommand(slot))
            {
                Regs.CommandIssue &= ~(1u << slot);
            }
        }
    }

    /// <summary>handle_cmd: false when the slot stays issued (engine busy, no drive, command still running).</summary>
    private bool HandleCommand(int slot)
    {
        if (_device == null || (_device.Status & (IdeDevice.StatusBusy | IdeDevice.StatusDataRequest)) != 0)
        {
            return false;
        }

        Regs.CurrentSlot = slot;
        var header = new byte[CommandHeaderSize];
        _hba.Memory.ReadBlock(CurrentHeader, header);
        ulong table = BitConverter.ToUInt64(header, 8);
        var fis = new byte[CommandTableFisSize];
        _hba.Memory.ReadBlock(table, fis);
        if (fis[0] == FisTypeRegisterH2d)
        {
            HandleRegisterFis(fis, BitConverter.ToUInt16(header, 0));
        }

        if ((_device.Status & (IdeDevice.StatusBusy | IdeDevice.StatusDataRequest)) != 0)
        {
            Regs.BusySlot = slot;
            return false;
        }

        return true;
    }

    /// <summary>handle_reg_h2d_fis: a command (C bit) to the IDE device, or a device-control FIS driving SRST.</summary>
    private void HandleRegisterFis(byte[] fis, ushort opts)
    {
        if ((fis[1] & 0x7F) != 0)
        {
            return; // a port-multiplier port or reserved bits: ignored, as by QEMU
        }

        if ((fis[1] & FisUpdateCommand) == 0)
        {
            if (!Regs.Resetting && (fis[15] & ControlSoftwareReset) != 0)
            {
                Regs.Resetting = true;
            }
            else if (Regs.Resetting && (fis[15] & ControlSoftwareReset) == 0)
            {
                ResetPort();
            }

            return;
        }

        if (IsNcq(fis[2]))
        {
            ProcessNcq(fis);
            return;
        }

        _device!.LoadCommandFis(fis);
        if ((opts & OptsAtapi) != 0)
        {
            fis.AsSpan(AtapiCommandOffset, 16).CopyTo(_device.CommandBuffer);
            Regs.DoneFirstDrq = false;
        }

        _hba.Memory.WriteBlock(CurrentHeader + 4, new byte[4]); // PRDBC = 0
        Regs.IoBufferOffset = 0;
        _device.ExecuteCommand(fis[2]);
    }

    private ushort CurrentOpts()
    {
        Span<byte> opts = stackalloc byte[2];
        _hba.Memory.ReadBlock(CurrentHeader, opts);
        return BitConverter.ToUInt16(opts);
    }

    /// <summary>ahci_populate_sglist: the PRDT regions from <paramref name="offset"/> bytes in, up to <paramref name="limit"/> bytes; null when the table is empty or the offset lies past it.</summary>
    private List<(ulong Address, int Length)>? Regions(long limit, long offset)
    {
        var header = new byte[16];
        _hba.Memory.ReadBlock(CurrentHeader, header);
        int entries = BitConverter.ToUInt16(header, 2);
        ulong prdt = BitConverter.ToUInt64(header, 8) + PrdtOffset;
        if (entries == 0)
        {
            return null;
        }

        var table = new byte[entries * PrdEntrySize];
        _hba.Memory.ReadBlock(prdt, table);
        long sum = 0;
        int first = -1;
        long position = 0;
        for (int i = 0; i < entries; i++)
        {
            long size = EntrySize(table, i);
            if (offset < sum + size)
            {
                first = i;
                position = offset - sum;
                break;
            }

            sum += size;
        }

        if (first < 0)
        {
            return null;
        }

        var regions = new List<(ulong Address, int Length)>();
        long total = Math.Min(EntrySize(table, first) - position, limit);
        regions.Add((BitConverter.ToUInt64(table, first * PrdEntrySize) + (ulong)position, (int)total));
        for (int i = first + 1; i < entries && total < limit; i++)
        {
            int length = (int)Math.Min(EntrySize(table, i), limit - total);
            regions.Add((BitConverter.ToUInt64(table, i * PrdEntrySize), length));
            total += length;
        }

        return regions;
    }

    private static long EntrySize(byte[] table, int i) => (BitConverter.ToUInt32(table, (i * PrdEntrySize) + 12) & PrdSizeMask) + 1;

    /// <summary>dma_buf_read/write over <paramref name="regions"/>: as much of <paramref name="data"/> as they hold.</summary>
    private void Move(List<(ulong Address, int Length)> regions, Span<byte> data, bool toMemory)
    {
        int done = 0;
        foreach (var (address, length) in regions)
        {
            int n = Math.Min(length, data.Length - done);
            if (n <= 0)
            {
                break;
            }

            if (toMemory)
            {
                _hba.Memory.WriteBlock(address, data.Slice(done, n));
            }
            else
            {
                _hba.Memory.ReadBlock(address, data.Slice(done, n));
            }

            done += n;
        }
    }

    // ---- IIdeTransport: QEMU's ahci_dma_ops ----

    public void RaiseInterrupt()
    {
        // ahci_irq_set: the IDE bus interrupt goes nowhere; the HBA interrupts through received FISes.
    }

    /// <summary>ahci_pio_transfer: the PIO setup FIS, the block through the PRDT (not for the ATAPI packet, already in the buffer), PRDBC, PSS when the FIS's I bit is set.</summary>
    public bool PioTransfer(IdeDevice device)
    {
        var block = device.PioBlock;
        ushort opts = CurrentOpts();
        bool isWrite = (opts & OptsWrite) != 0;
        bool isAtapi = (opts & OptsAtapi) != 0;
        bool interrupt = Regs.DoneFirstDrq || (!isAtapi && !isWrite);
        WritePioFis(block.Length, interrupt);
        if (!isAtapi || Regs.DoneFirstDrq)
        {
            if (Regions(block.Length, Regs.IoBufferOffset) is { } regions && block.Length > 0)
            {
                Move(regions, block, toMemory: !isWrite);
            }

            CommitBuffer(block.Length);
        }

        device.PioBlockDone();
        Regs.DoneFirstDrq = true;
        if (interrupt)
        {
            Trigger(IsPss);
        }

        return true;
    }

    /// <summary>ahci_start_dma: the transfer runs now.</summary>
    public void StartDma(IdeDevice device)
    {
        Regs.IoBufferOffset = 0;
        device.ContinueDma();
    }

    /// <summary>ahci_dma_prepare_buf: the PRDT from the bytes already moved, up to the limit; the descriptors count only as far as they were used.</summary>
    public int PrepareBuffer(int limit, List<(ulong Address, int Length)> scatter, out int described)
    {
        var regions = Regions(limit, Regs.IoBufferOffset);
        if (regions != null)
        {
            scatter.AddRange(regions);
        }

        described = scatter.Sum(r => r.Length);
        return described;
    }

    /// <summary>ahci_commit_buf + dma_buf_commit: PRDBC in the command header and the transfer offset grow.</summary>
    public void CommitBuffer(int bytes)
    {
        Span<byte> count = stackalloc byte[4];
        _hba.Memory.ReadBlock(CurrentHeader + 4, count);
        BitConverter.TryWriteBytes(count, BitConverter.ToUInt32(count) + (uint)bytes);
        _hba.Memory.WriteBlock(CurrentHeader + 4, count);
        Regs.IoBufferOffset += bytes;
    }

    /// <summary>ahci_dma_rw_buf: the rest of the buffer through the PRDT; false when the PRDT cannot be used.</summary>
    public bool CopyBuffer(byte[] buffer, ref int index, int size, bool toMemory)
    {
        int length = size - index;
        if (Regions(length, Regs.IoBufferOffset) is not { } regions)
        {
            return false;
        }

        Move(regions, buffer.AsSpan(index, length), toMemory);
        CommitBuffer(length);
        index += length;
        return true;
    }

    public void ReadMemory(ulong address, Span<byte> destination) => _hba.Memory.ReadBlock(address, destination);

    public void WriteMemory(ulong address, ReadOnlySpan<byte> source) => _hba.Memory.WriteBlock(address, source);

    /// <summary>AHCI has no set_inactive.</summary>
    public void SetInactive(bool more)
    {
    }

    /// <summary>ahci_cmd_done: the slot a running command held clears, the D2H FIS reports the end.</summary>
    public void CommandDone()
    {
        if (Regs.BusySlot != -1)
        {
            Regs.CommandIssue &= ~(1u << Regs.BusySlot);
            Regs.BusySlot = -1;
        }

        WriteD2hFis();
    }
}
