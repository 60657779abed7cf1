/** The selected artifact: digest, Delete Artifact, and tabs for tags, layers (or platforms), manifest, config, image scan, signatures, pull. */
import { Badge, Button, Group, Paper, Tabs, Text, Title } from '@mantine/core';
import { IconBraces, IconBug, IconDownload, IconFileSettings, IconShieldCheck, IconStack2, IconTag, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { type ImageRef, useArtifact, useDeleteArtifact } from '../../api/images';
import { usePermissions } from '../../api/session';
import { ConfirmModal } from '../../components/ConfirmModal';
import { CopyButton } from '../../components/CopyButton';
import { LoadError, LoadingRows } from '../../components/QueryState';
import { artifactKind, formatBytes, isIndex, plural } from '../../lib/format';
import { JsonBlock } from './JsonBlock';
import { ConfigPanel, LayersPanel } from './LayersPanel';
import { PullPanel } from './PullPanel';
import { ScanPanel } from './ScanPanel';
import { SignaturesPanel } from './SignaturesPanel';
import { TagsPanel } from './TagsPanel';

export function ArtifactDetail({ imageRef, digest, tab, onTab, onDeleted }: { imageRef: ImageRef; digest: string; tab: string; onTab: (t: string) => void; onDeleted: () => void }) {
  const q = useArtifact(imageRef, digest);
  const { canWrite } = usePermissions();
  const del = useDeleteArtifact(imageRef);
  const [deleting, setDeleting] = useState(false);

  if (q.isPending) {
    return (
      <Paper withBorder p="md">
        <LoadingRows rows={5} />
      </Paper>
    );
  }
  if (q.isError) return <LoadError error={q.error} retry={() => q.refetch()} what="the artifact" />;
  const a = q.data;
  const index = isIndex(a.mediaType);

  return (
    <Paper withBorder p={{ base: 'sm', sm: 'md' }} aria-label="Artifact detail" component="section">
      <Group justify="space-between" align="flex-start" mb="md" gap="sm">
        <div style={{ minWidth: 0 }}>
          <Group gap="xs" mb={4}>
            <Title order={4}>Artifact</Title>
            <Badge variant="light" color="gray" tt="none">
              {artifactKind(a.mediaType, a.artifactType)}
            </Badge>
            <Badge variant="light" color="gray" tt="none">
              {formatBytes(a.size)}
            </Badge>
          </Group>
          <Group gap={2} wrap="nowrap">
            <Text className="mono" size="sm" style={{ wordBreak: 'break-all' }}>
              {a.digest}
            </Text>
            <CopyButton value={a.digest} label="Copy full digest" />
          </Group>
        </div>
        {canWrite && (
          <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={() => setDeleting(true)}>
            Delete artifact
          </Button>
        )}
      </Group>
      <Tabs value={tab} onChange={(v) => onTab(v ?? 'tags')} keepMounted={false}>
        <Tabs.List mb="md" aria-label="Artifact detail">
          <Tabs.Tab value="tags" leftSection={<IconTag size={16} />}>
            Tags
          </Tabs.Tab>
          <Tabs.Tab value="layers" leftSection={<IconStack2 size={16} />}>
            {index ? 'Platforms' : 'Layers'}
          </Tabs.Tab>
          <Tabs.Tab value="manifest" leftSection={<IconBraces size={16} />}>
            Manifest
          </Tabs.Tab>
          {a.config && (
            <Tabs.Tab value="config" leftSection={<IconFileSettings size={16} />}>
              Config
            </Tabs.Tab>
          )}
          {!index && (
            <Tabs.Tab value="scan" leftSection={<IconBug size={16} />}>
              Image Scan
            </Tabs.Tab>
          )}
          <Tabs.Tab value="signatures" leftSection={<IconShieldCheck size={16} />}>
            Signatures
          </Tabs.Tab>
          <Tabs.Tab value="pull" leftSection={<IconDownload size={16} />}>
            Pull
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="tags">
          <TagsPanel imageRef={imageRef} digest={a.digest} />
        </Tabs.Panel>
        <Tabs.Panel value="layers">
          <LayersPanel artifact={a} />
        </Tabs.Panel>
        <Tabs.Panel value="manifest">
          <JsonBlock value={a.manifest} label="Manifest JSON" />
        </Tabs.Panel>
        {a.config && (
          <Tabs.Panel value="config">
            <ConfigPanel config={a.config} />
          </Tabs.Panel>
        )}
        {!index && (
          <Tabs.Panel value="scan">
            <ScanPanel imageRef={imageRef} digest={a.digest} />
          </Tabs.Panel>
        )}
        <Tabs.Panel value="signatures">
          <SignaturesPanel imageRef={imageRef} digest={a.digest} />
        </Tabs.Panel>
        <Tabs.Panel value="pull">
          <PullPanel artifact={a} />
        </Tabs.Panel>
      </Tabs>
      <ConfirmModal
        opened={deleting}
        onClose={() => setDeleting(false)}
        title="Delete artifact?"
        confirmLabel="Delete artifact"
        onConfirm={async () => {
          await del.mutateAsync(a.digest);
          onDeleted();
        }}
      >
        <Text size="sm">
          This deletes artifact <code>{a.digest.slice(0, 19)}…</code> of <b>{imageRef.registry}/{imageRef.image}</b>
          {a.tags.length > 0 ? (
            <>
              {' '}
              and its {plural(a.tags.length, 'tag')}: <b>{a.tags.join(', ')}</b>. Pulls by {a.tags.length === 1 ? 'that tag' : 'those tags'} or by digest will fail.
            </>
          ) : (
            '. It has no tags; pulls by its digest will fail.'
          )}{' '}
          This cannot be undone.
        </Text>
      </ConfirmModal>
    </Paper>
  );
}
