; Inno Setup 6 script for the Windows installer of Flowdesk.
; Input: the PyInstaller one-folder bundle (packaging/flowdesk.spec on Windows), which
; holds flowdesk.exe (console: the command line) and flowdeskw.exe (GUI: Start menu,
; double-clicks) sharing one _internal\ folder.
;
;   iscc /DAppVersion=0.1.0 /DSourceDir=..\..\dist\flowdesk packaging\windows\flowdesk.iss
;
; Output: dist\flowdesk-VERSION-windows-x64-setup.exe. Installs per user by default
; (no UAC prompt; the dialog offers "for all users"), adds a Start menu entry, offers
; Flowdesk under "Open with" for .json files (Windows keys associations on the last
; extension only, so *.flow.json cannot get an association of its own without taking
; over every .json file), optionally puts flowdesk.exe on PATH, and uninstalls cleanly.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\flowdesk"
#endif
#define AppName "Flowdesk"
#define GuiExe "flowdeskw.exe"
#define ProgId "Flowdesk.Workflow"

[Setup]
AppId={{5C2B7E61-3F0A-4B8E-9A4D-6E1F2C7D8B90}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Flowdesk developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=flowdesk-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\branding\flowdesk.ico
UninstallDisplayIcon={app}\{#GuiExe}
UninstallDisplayName={#AppName} {#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
ChangesEnvironment=yes
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "openwith"; Description: "Offer Flowdesk in ""Open with"" for .json workflow files"; GroupDescription: "Files:"
Name: "addtopath"; Description: "Add the flowdesk command to PATH"; GroupDescription: "Command line:"; Flags: unchecked

[InstallDelete]
; a new version replaces the whole bundle (no stale modules from the previous one)
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Parameters: "edit"; Comment: "Build workflows visually"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Parameters: "edit"; Tasks: desktopicon

[Registry]
; HKA = HKCU for a per-user install, HKLM for an all-users one.
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "Flowdesk workflow"; Flags: uninsdeletekey; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#GuiExe},0"; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#GuiExe}"" edit ""%1"""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\.json\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\{#GuiExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\{#GuiExe}\SupportedTypes"; ValueType: string; ValueName: ".json"; ValueData: ""; Tasks: openwith
Root: HKA; Subkey: "Software\Classes\Applications\{#GuiExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#GuiExe}"" edit ""%1"""; Tasks: openwith
; PATH for the current user (removed again by the [Code] below on uninstall)
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Check: NeedsAddPath(ExpandConstant('{app}')); Tasks: addtopath

[Run]
Filename: "{app}\{#GuiExe}"; Parameters: "edit"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
Type: filesandordirs; Name: "{app}\_internal"

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;

procedure RemoveFromPath(Dir: string);
var
  Path: string;
  P: Integer;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path) then
    exit;
  P := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';');
  if P = 0 then
    exit;
  { P is 1-based in ';'+Path+';'; the entry starts at P in Path coordinates }
  Delete(Path, P, Length(Dir));
  if (P <= Length(Path)) and (Copy(Path, P, 1) = ';') then
    Delete(Path, P, 1)
  else if (P > 1) and (Copy(Path, P - 1, 1) = ';') then
    Delete(Path, P - 1, 1);
  RegWriteExpandStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usPostUninstall then
    RemoveFromPath(ExpandConstant('{app}'));
end;
