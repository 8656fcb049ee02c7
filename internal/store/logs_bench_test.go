package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tether-iot/tether"
)

// benchLogs returns n Connections records from 1000 devices, alternating
// a connect and a disconnect with an error, each with properties_s of
// about 400 bytes as internal/diag writes them. Times are one millisecond
// apart from start.
func benchLogs(n int, start time.Time) []tether.LogRecord {
	recs := make([]tether.LogRecord, n)
	for i := range recs {
		dev := fmt.Sprintf("sensor-%04d", i%1000)
		r := tether.LogRecord{
			Time:          start.Add(time.Duration(i) * time.Millisecond),
			Category:      tether.CategoryConnections,
			OperationName: "deviceConnect",
			Level:         tether.LevelInformation,
			DeviceID:      dev,
		}
		props := fmt.Sprintf(`{"deviceId":%q,"sdkVersion":"azure-iot-device/1.18.4 (node v20.11.1; Linux; x64)",`+
			`"protocol":"Mqtt","authType":"{\"scope\":\"device\",\"type\":\"sas\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}",`+
			`"maskedIpAddress":"10.20.%d.XXX","statusCode":null,"connectionId":"c-%08x","keepAliveSec":60,`+
			`"apiVersion":"2021-04-12","tlsVersion":"TLS1.3","cipherSuite":"TLS_AES_128_GCM_SHA256"`, dev, i%256, i)
		if i%2 == 1 {
			r.OperationName = "deviceDisconnect"
			r.Level = tether.LevelError
			r.ResultType = "404104"
			r.ResultDescription = "DeviceConnectionClosedRemotely"
			r.Reason = tether.ReasonKeepAliveTimeout
			props = fmt.Sprintf(`{"deviceId":%q,"sdkVersion":"azure-iot-device/1.18.4 (node v20.11.1; Linux; x64)",`+
				`"protocol":"Mqtt","authType":"{\"scope\":\"device\",\"type\":\"sas\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}",`+
				`"maskedIpAddress":"10.20.%d.XXX","statusCode":"404","reason":"keepalive_timeout","connectionId":"c-%08x",`+
				`"durationMs":%d,"keepAliveSec":60,"lastActivityAgoMs":90000,"bytesIn":%d,"bytesOut":812,"messagesIn":%d,"messagesOut":3`,
				dev, i%256, i, 3600000+i, 1000+i, i%500)
		}
		r.Properties = props + "}"
		recs[i] = r
	}
	return recs
}

// BenchmarkWriteLogs writes batches of 4096 Connections records into a
// growing table, with its three indexes.
func BenchmarkWriteLogs(b *testing.B) {
	const batch = 4096
	ctx := context.Background()
	s := mustOpen(b)
	recs := benchLogs(batch, time.Now())
	var size int64
	for _, r := range recs {
		size += int64(len(r.Properties))
	}
	b.SetBytes(size)
	start := time.Now()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Later batches are later in time, as in a running hub.
		for j := range recs {
			recs[j].Time = start.Add(time.Duration(i*batch+j) * time.Millisecond)
		}
		if err := s.WriteLogs(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
}
