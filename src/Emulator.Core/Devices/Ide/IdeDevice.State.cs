// What a device position saves and restores: QEMU's vmstate "ide_drive" with its pio_state,
// tray_state and gesn_state subsections, plus what QEMU keeps outside it (the I/O buffer beyond
// a PIO transfer, the DMA command, SMART). The medium's contents are not device state.
namespace Emulator.Core.Devices.Ide;

public sealed partial class IdeDevice
{
    internal IdeDeviceState SaveState()
    {
        int used = _buffer.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
        return new IdeDeviceState(
            Kind,
            [Status, Error, Features, LbaLow, LbaMid, LbaHigh, DeviceHead, HobFeatures, HobSectorCount, HobLbaLow, HobLbaMid, HobLbaHigh],
            SectorCount,
            Lba48,
            MultipleSectors,
            RequestSectors,
            _buffer[..used],
            _dataPosition,
            _dataEnd,
            _transferEnd,
            _identifySet ? [.. _identify] : null,
            WriteCacheEnabled,
            new IdePacketState(_senseKey, _asc, _cdromChanged, _packetTransferSize, _elementaryTransferSize, _cdSectorSize, _atapiDma, _lba, TrayOpen, TrayLocked, _newMediaEvent, _ejectRequestEvent),
            _dmaCommand,
            _ioBufferSize,
            _ioBufferIndex,
            new IdeSmartState(_smartEnabled, _smartAutosave, _smartSelfTestCount, [.. _smartSelfTests]));
    }

    internal void RestoreState(IdeDeviceState s)
    {
        if (s.Kind != Kind)
        {
            throw new ArgumentException($"{_channel.Name} device {Unit} is {Kind}, the record {s.Kind}");
        }

        var r = s.Registers;
        (Status, Error, Features, LbaLow, LbaMid, LbaHigh, DeviceHead) = (r[0], r[1], r[2], r[3], r[4], r[5], r[6]);
        (HobFeatures, HobSectorCount, HobLbaLow, HobLbaMid, HobLbaHigh) = (r[7], r[8], r[9], r[10], r[11]);
        SectorCount = s.SectorCount;
        Lba48 = s.Lba48;
        MultipleSectors = s.MultipleSectors;
        RequestSectors = s.RequestSectors;
        Array.Clear(_buffer);
        s.Buffer.CopyTo(_buffer, 0);
        _dataPosition = s.DataPosition;
        _dataEnd = s.DataEnd;
        _transferEnd = s.TransferEnd;
        _identifySet = s.Identify != null;
        Array.Clear(_identify);
        s.Identify?.CopyTo(_identify, 0);
        WriteCacheEnabled = s.WriteCacheEnabled;
        var p = s.Packet;
        (_senseKey, _asc, _cdromChanged, _packetTransferSize, _elementaryTransferSize, _cdSectorSize) = (p.SenseKey, p.Asc, p.CdromChanged, p.PacketTransferSize, p.ElementaryTransferSize, p.CdSectorSize);
        (_atapiDma, _lba, TrayOpen, TrayLocked, _newMediaEvent, _ejectRequestEvent) = (p.AtapiDma, p.Lba, p.TrayOpen, p.TrayLocked, p.NewMediaEvent, p.EjectRequestEvent);
        _dmaCommand = s.DmaCommand;
        _ioBufferSize = s.IoBufferSize;
        _ioBufferIndex = s.IoBufferIndex;
        (_smartEnabled, _smartAutosave, _smartSelfTestCount) = (s.Smart.Enabled, s.Smart.Autosave, s.Smart.SelfTestCount);
        s.Smart.SelfTests.CopyTo(_smartSelfTests, 0);
    }
}

/// <summary>
/// One IDE device position: its kind (checked on restore), the registers (status, error,
/// features, LBA low/mid/high, device/head, then the HOB bytes of features, count and LBA), the
/// transfer state and the I/O buffer up to its last non-zero byte.
/// </summary>
public sealed record IdeDeviceState(
    IdeDriveKind Kind,
    byte[] Registers,
    int SectorCount,
    bool Lba48,
    int MultipleSectors,
    int RequestSectors,
    byte[] Buffer,
    int DataPosition,
    int DataEnd,
    IdeDevice.TransferEnd TransferEnd,
    ushort[]? Identify,
    bool WriteCacheEnabled,
    IdePacketState Packet,
    IdeDevice.DmaCommand DmaCommand,
    int IoBufferSize,
    int IoBufferIndex,
    IdeSmartState Smart);

/// <summary>The ATAPI part of a device position (sense, transfer progress, tray, pending events).</summary>
public sealed record IdePacketState(
    int SenseKey,
    int Asc,
    int CdromChanged,
    int PacketTransferSize,
    int ElementaryTransferSize,
    int CdSectorSize,
    bool AtapiDma,
    int Lba,
    bool TrayOpen,
    bool TrayLocked,
    bool NewMediaEvent,
    bool EjectRequestEvent);

/// <summary>SMART state QEMU keeps per disk.</summary>
public sealed record IdeSmartState(bool Enabled, bool Autosave, int SelfTestCount, byte[] SelfTests);
