#!/usr/bin/env bash
# Builds nanoFramework's MetadataProcessor CLI on .NET 10 from its sources (checkouts of
# nanoframework/metadata-processor and jehugaleahsa/mustache-sharp, at the commits build-nanoclr.sh pins):
#   tools/nanoframework/build-mdp.sh <metadata-processor> <mustache-sharp> <out-dir>
# Then: dotnet <out-dir>/nanoFramework.Tools.MetadataProcessor.CLI.dll -loadHints mscorlib ... (see build-nanoclr.sh).
set -euo pipefail
mdp_src="$(cd "$1" && pwd)"
mustache="$(cd "$2" && pwd)"
out="$(mkdir -p "$3" && cd "$3" && pwd)"
# Its projects are .NET Framework 4.7.2 ones; these SDK-style wrappers build the same sources on .NET 10
# (the shared sources as the Core library, Program.cs as the CLI, as in the original split).
wrap="$out/wrap"
mkdir -p "$wrap/mustache" "$wrap/core" "$wrap/cli"
echo '<Project><PropertyGroup><TreatWarningsAsErrors>false</TreatWarningsAsErrors><Nullable>disable</Nullable><ImplicitUsings>disable</ImplicitUsings><GenerateAssemblyInfo>false</GenerateAssemblyInfo><EnableDefaultCompileItems>false</EnableDefaultCompileItems><EnableDefaultEmbeddedResourceItems>false</EnableDefaultEmbeddedResourceItems><TargetFramework>net10.0</TargetFramework><NoWarn>$(NoWarn);CS0618;CA1416;SYSLIB0011</NoWarn></PropertyGroup></Project>' > "$wrap/Directory.Build.props"
cat > "$wrap/mustache/mustache.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><AssemblyName>mustache-sharp</AssemblyName><RootNamespace>Mustache</RootNamespace></PropertyGroup>
  <ItemGroup>
    <Compile Include="$mustache/MustacheSharp/**/*.cs" />
    <EmbeddedResource Include="$mustache/MustacheSharp/Properties/Resources.resx" LogicalName="Mustache.Properties.Resources.resources" />
  </ItemGroup>
</Project>
XML
cat > "$wrap/core/core.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><AssemblyName>nanoFramework.Tools.MetadataProcessor.Core</AssemblyName><AllowUnsafeBlocks>true</AllowUnsafeBlocks></PropertyGroup>
  <ItemGroup>
    <Compile Include="$mdp_src/MetadataProcessor.Shared/**/*.cs" />
    <PackageReference Include="Mono.Cecil" Version="0.11.6" />
    <PackageReference Include="System.Drawing.Common" Version="11.0.0" />
    <ProjectReference Include="../mustache/mustache.csproj" />
  </ItemGroup>
</Project>
XML
cat > "$wrap/cli/cli.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><AssemblyName>nanoFramework.Tools.MetadataProcessor.CLI</AssemblyName></PropertyGroup>
  <ItemGroup>
    <Compile Include="$mdp_src/MetadataProcessor.Console/Program.cs" />
    <PackageReference Include="Mono.Cecil" Version="0.11.6" />
    <ProjectReference Include="../core/core.csproj" />
  </ItemGroup>
</Project>
XML
dotnet build "$wrap/cli" -c Release -o "$out"
