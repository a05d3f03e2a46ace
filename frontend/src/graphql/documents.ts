import { graphql } from '../gql';

// Every operation the dashboard sends. Kept in one place so codegen output stays
// small and a schema change shows up as one failing `npm run codegen`.

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      subject
      name
      email
      roles
      integrationIds
    }
  }
`);

export const IntegrationsQuery = graphql(`
  query Integrations {
    integrations {
      id
      name
      tenantId
      clientId
      credentialType
      secretHint
      certificateThumbprint
      certificateExpiresAt
      status
      lastError
      lastSyncAt
      nextSyncAt
      syncIntervalSeconds
      watchMode
      watchReason
      createdAt
      currentRun {
        ...SyncRunFields
      }
    }
  }
`);

// Counting an integration's rows takes seconds on a large tenant, so only the
// Integrations screen asks for it; every other screen needs the list above alone.
export const IntegrationCountsQuery = graphql(`
  query IntegrationCounts {
    integrations {
      id
      counts {
        users
        drives
        items
        sharedItems
        permissions
        inaccessibleDrives
      }
      tenantFacts {
        externalSource
        externalSourceNote
      }
    }
  }
`);

export const SyncRunFields = graphql(`
  fragment SyncRunFields on SyncRun {
    id
    full
    status
    phase
    startedAt
    finishedAt
    drivesTotal
    drivesDone
    drivesSkipped
    itemsSeen
    sharedItems
    permissionsRead
    requests
    resourceUnits
    throttledWaits
    etaSeconds
    error
    drivesSwept
    rootsRefreshed
  }
`);

export const OverviewCountsQuery = graphql(`
  query OverviewCounts($integrationId: ID!) {
    overview(integrationId: $integrationId) {
      ...OverviewCountFields
    }
  }
`);

export const OverviewAdminQuery = graphql(`
  query OverviewAdmin($integrationId: ID!) {
    integration(id: $integrationId) {
      id
      tenantFacts {
        externalSource
        externalSourceNote
      }
    }
    overview(integrationId: $integrationId) {
      ...OverviewCountFields
      topSharers(first: 10) {
        displayName
        sharedItems
        user {
          id
          userPrincipalName
        }
      }
      drivesNearQuota(first: 10) {
        ownerName
        usedFraction
        state
        drive {
          id
          name
          quota {
            total
            used
          }
        }
      }
    }
  }
`);

export const OverviewCountFields = graphql(`
  fragment OverviewCountFields on Overview {
    items
    sharedItems
    byScope {
      scope
      items
      permissions
    }
    externalShares
    linksWithoutExpiry
    editLinks
    anonymousEditLinks
    users
    guests
    drives
    expiredLinks
    expiredItems
    lastSyncAt
    exposureTrend(days: 30) {
      day
      anonymous
      organization
      external
    }
    medianTimeToFix(days: 90) {
      medianSeconds
      fixed
    }
  }
`);

export const PermissionFields = graphql(`
  fragment PermissionFields on Permission {
    id
    graphId
    roles
    inherited
    sharing
    scope
    application {
      id
      displayName
    }
    inheritedFrom {
      id
      name
      path
    }
    expiresAt
    link {
      type
      scope
      webUrl
      expiresAt
      expired
      hasPassword
      preventsDownload
    }
    grantedTo {
      displayName
      email
      external
      kind
    }
    grantedToIdentities {
      displayName
      email
      external
      kind
    }
  }
`);

export const DriveItemsQuery = graphql(`
  query DriveItems(
    $integrationId: ID!
    $filter: DriveItemFilter
    $first: Int
    $after: String
    $orderBy: DriveItemOrder
  ) {
    driveItems(
      integrationId: $integrationId
      filter: $filter
      first: $first
      after: $after
      orderBy: $orderBy
    ) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          ...DriveItemRow
        }
      }
    }
  }
`);

// The count of a filter is its own request: counting costs more than a page of
// rows on a large tenant, and the table need not wait for it.
export const DriveItemsCountQuery = graphql(`
  query DriveItemsCount($integrationId: ID!, $filter: DriveItemFilter) {
    driveItems(integrationId: $integrationId, filter: $filter, first: 0) {
      totalCount
    }
  }
`);

export const DriveItemRow = graphql(`
  fragment DriveItemRow on DriveItem {
    id
    name
    path
    webUrl
    folder
    size
    modifiedAt
    sharedScope
    owner {
      id
      displayName
      userPrincipalName
    }
    permissions {
      ...PermissionFields
    }
  }
`);

export const DriveItemNodeQuery = graphql(`
  query DriveItemNode($id: ID!) {
    node(id: $id) {
      ... on DriveItem {
        ...DriveItemRow
        graphId
        drive {
          id
          name
        }
      }
    }
  }
`);

export const UsersQuery = graphql(`
  query Users($integrationId: ID!, $filter: UserFilter, $first: Int, $after: String) {
    users(integrationId: $integrationId, filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          displayName
          userPrincipalName
          mail
          userType
          guest
          accountEnabled
          jobTitle
          department
          licenses {
            skuId
            skuPartNumber
          }
          drive {
            id
            quota {
              total
              used
            }
          }
        }
      }
    }
  }
`);

export const DrivesQuery = graphql(`
  query Drives($integrationId: ID!, $filter: DriveFilter, $first: Int, $after: String) {
    drives(integrationId: $integrationId, filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
          driveType
          webUrl
          itemCount
          sharedItemCount
          access
          accessReason
          inaccessibleSince
          owner {
            id
            displayName
          }
          quota {
            total
            used
            remaining
            deleted
            state
          }
        }
      }
    }
  }
`);

export const AuditEventsQuery = graphql(`
  query AuditEvents($integrationId: ID, $filter: AuditEventFilter, $first: Int, $after: String) {
    auditEvents(integrationId: $integrationId, filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          at
          actorSubject
          actorName
          action
          itemName
          itemPath
          linkType
          linkScope
          linkWebUrl
          grantedTo
          result
          message
        }
      }
    }
  }
`);

export const SyncRunsQuery = graphql(`
  query SyncRuns($integrationId: ID!, $first: Int) {
    syncRuns(integrationId: $integrationId, first: $first) {
      edges {
        node {
          ...SyncRunFields
        }
      }
    }
  }
`);

export const SyncProgressSubscription = graphql(`
  subscription SyncProgress($integrationId: ID!) {
    syncProgress(integrationId: $integrationId) {
      runId
      integrationId
      phase
      drivesDone
      drivesTotal
      drivesSkipped
      itemsSeen
      sharedItems
      permissionsRead
      requests
      resourceUnits
      throttledWaits
      etaSeconds
      done
      error
    }
  }
`);

export const IntegrateMutation = graphql(`
  mutation Integrate($input: IntegrateInput!) {
    integrate(input: $input) {
      id
      name
      status
    }
  }
`);

export const UpdateIntegrationMutation = graphql(`
  mutation UpdateIntegration($input: UpdateIntegrationInput!) {
    updateIntegration(input: $input) {
      id
      name
      credentialType
      secretHint
      certificateThumbprint
      certificateExpiresAt
      status
      lastError
    }
  }
`);

export const PauseIntegrationMutation = graphql(`
  mutation PauseIntegration($id: ID!) {
    pauseIntegration(id: $id) {
      id
      status
    }
  }
`);

export const ResumeIntegrationMutation = graphql(`
  mutation ResumeIntegration($id: ID!) {
    resumeIntegration(id: $id) {
      id
      status
    }
  }
`);

export const DeleteIntegrationMutation = graphql(`
  mutation DeleteIntegration($id: ID!) {
    deleteIntegration(id: $id)
  }
`);

export const StartSyncMutation = graphql(`
  mutation StartSync($integrationId: ID!, $full: Boolean) {
    startSync(integrationId: $integrationId, full: $full) {
      ...SyncRunFields
    }
  }
`);

export const CancelSyncMutation = graphql(`
  mutation CancelSync($runId: ID!) {
    cancelSync(runId: $runId) {
      id
      status
    }
  }
`);

export const StopSharingMutation = graphql(`
  mutation StopSharing($input: StopSharingInput!) {
    stopSharing(input: $input) {
      removed {
        id
        graphId
        alreadyRemoved
        confirmed
        message
      }
      failed {
        permissionId
        message
      }
    }
  }
`);

export const StopSharingBulkMutation = graphql(`
  mutation StopSharingBulk($integrationId: ID!, $filter: DriveItemFilter!, $dryRun: Boolean!) {
    stopSharingBulk(integrationId: $integrationId, filter: $filter, dryRun: $dryRun) {
      dryRun
      items
      permissions
      preview {
        item {
          id
          name
          path
        }
        permissions {
          id
          roles
          link {
            type
            scope
          }
          grantedTo {
            displayName
            email
          }
        }
      }
      removed {
        id
      }
      failed {
        permissionId
        message
      }
    }
  }
`);

export const SetLinkExpirationMutation = graphql(`
  mutation SetLinkExpiration($permissionId: ID!, $expiresAt: Time) {
    setLinkExpiration(permissionId: $permissionId, expiresAt: $expiresAt) {
      limited
      message
      permission {
        id
        expiresAt
        link {
          expiresAt
          expired
        }
      }
    }
  }
`);

export const SharingEventFields = graphql(`
  fragment SharingEventFields on SharingEvent {
    id
    kind
    source
    observedAt
    itemGraphId
    itemName
    itemPath
    item {
      id
    }
    permissionGraphId
    actorName
    itemModifiedAt
    itemModifiedBy
    before {
      ...SharingGrantFields
    }
    after {
      ...SharingGrantFields
    }
    exposureBefore
    exposureAfter
  }
`);

export const SharingGrantFields = graphql(`
  fragment SharingGrantFields on SharingGrant {
    graphId
    roles
    linkType
    scope
    expiresAt
    grantedTo
    grantedToEmail
    external
    recipients
  }
`);

export const ItemHistoryQuery = graphql(`
  query ItemHistory($id: ID!, $first: Int, $after: String) {
    node(id: $id) {
      ... on DriveItem {
        id
        history(first: $first, after: $after) {
          edges {
            node {
              ...SharingEventFields
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
        exposure {
          exposedNow
          firstExposedAt
          fixedAt
          timeToFixSeconds
          intervals {
            level
            startedAt
            endedAt
            fromFirstSeen
            seconds
          }
        }
      }
    }
  }
`);

export const SharingEventsQuery = graphql(`
  query SharingEvents($integrationId: ID!, $first: Int) {
    sharingEvents(integrationId: $integrationId, first: $first) {
      edges {
        node {
          ...SharingEventFields
        }
      }
    }
  }
`);

export const SharingChangedSubscription = graphql(`
  subscription SharingChanged($integrationId: ID!) {
    sharingChanged(integrationId: $integrationId) {
      ...SharingEventFields
    }
  }
`);
