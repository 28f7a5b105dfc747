package das

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// ErrNoStream: the cluster has no activity stream (or is not visible).
var ErrNoStream = errors.New("no database activity stream found")

// StreamMode asks the RDS API for the activity stream mode ("sync" or
// "async") of a cluster, by DbClusterResourceId (cluster-…) or by identifier.
// Gap analysis needs the mode; the config's mode: wins when it is set.
// AWS_ENDPOINT_URL_RDS selects a custom endpoint, as everywhere in SDK v2.
func StreamMode(ctx context.Context, region, profile, cluster string) (string, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return "", fmt.Errorf("load AWS config for RDS: %w", err)
	}
	return streamMode(ctx, rds.NewFromConfig(cfg), cluster)
}

func streamMode(ctx context.Context, client *rds.Client, cluster string) (string, error) {
	in := &rds.DescribeDBClustersInput{}
	if strings.HasPrefix(cluster, "cluster-") {
		in.Filters = []rdstypes.Filter{{Name: aws.String("db-cluster-resource-id"), Values: []string{cluster}}}
	} else {
		in.DBClusterIdentifier = aws.String(cluster)
	}
	out, err := client.DescribeDBClusters(ctx, in)
	if err != nil {
		return "", fmt.Errorf("rds DescribeDBClusters %s (needs rds:DescribeDBClusters): %w", cluster, err)
	}
	for _, c := range out.DBClusters {
		switch m := strings.ToLower(string(c.ActivityStreamMode)); m {
		case "sync", "async":
			return m, nil
		}
	}
	return "", fmt.Errorf("cluster %s: %w", cluster, ErrNoStream)
}
