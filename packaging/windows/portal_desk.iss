; Inno Setup 6 script: a per-user or per-machine installer for the one-folder build.
;   iscc /DAppVersion=0.1.0 packaging\windows\portal_desk.iss
; Input: dist\Portal Desk\ (python -m PyInstaller packaging\portal_desk.spec)
; Output: dist\installer\PortalDesk-Setup-<version>.exe

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Portal Desk"
#define AppExe "Portal Desk.exe"
#define Root AddBackslash(SourcePath) + "..\.."

[Setup]
; A fixed AppId keeps upgrades in place; never change it after the first release.
AppId={{6C0B1E4A-3F4E-4B8B-9E61-2D5A7C1F0D42}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Portal Desk
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Installs without admin rights for the current user; the dialog offers "all users" too.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist\installer
OutputBaseFilename=PortalDesk-Setup-{#AppVersion}
SetupIconFile={#Root}\build\icons\app.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Sign the installer and uninstaller when a certificate is configured (see packaging/README.md):
;   iscc /Ssigntool="signtool sign /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 /a $f" ...
#ifdef SignTool
SignTool=signtool
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\dist\{#AppName}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Program files only: the user's settings, keyring entries and demo data stay (they live in the
; user's profile, not under {app}).
Type: filesandordirs; Name: "{app}"
